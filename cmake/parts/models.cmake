# SPDX-License-Identifier: MIT
# The Promela models of models/ (docs/testing.md, "Models"), checked by spin
# when it is installed (scripts/deps.sh test installs it), once per suite: in
# release builds. Each runs models/verify.sh: every configuration that must
# hold holds, and every broken variant is rejected in the way given.
find_program(FERRY_SPIN spin)
if(FERRY_BUILD_TESTS AND FERRY_SPIN AND FERRY_SANITIZE STREQUAL "" AND CMAKE_BUILD_TYPE STREQUAL "Release")
  # ferry_add_model(NAME RUN...): test unit.model.NAME for models/NAME.pml.
  function(ferry_add_model name)
    add_test(NAME unit.model.${name}
      COMMAND sh ${PROJECT_SOURCE_DIR}/models/verify.sh ${FERRY_SPIN} ${CMAKE_C_COMPILER}
              ${PROJECT_SOURCE_DIR}/models/${name}.pml ${ARGN})
    set_tests_properties(unit.model.${name} PROPERTIES LABELS unit TIMEOUT 300
      PASS_REGULAR_EXPRESSION "PASS: ${name}.pml")
  endfunction()

  # RCU's two-phase grace period with the quick path (src/rcu.c,
  # src/rcu_common.c); a single flip, and the quick check before the
  # publication, let a reader use a freed object.
  ferry_add_model(rcu_gp "pass/updater " "assert -DSINGLE_FLIP" "assert -DQUICK_BEFORE_PUBLISH")
  # ferry_llq's stub protocol (src/llq.c); appending the stub without the
  # check that cur is the newest node breaks it.
  ferry_add_model(llq "pass/consumer " "assert -DNO_LAST_CHECK")
  # The channel's cancel / wake-round protocol (src/chan_op.c): it holds and
  # reaches every state of the canceller; the old whole-round wait
  # deadlocks, a cancel that does not wait for its op's running waker
  # breaks.
  ferry_add_model(chan_cancel "pass/canceller " "deadlock -DPHASE_WAIT" "assert -DNO_WAIT")
  # Its carry step (src/chan_op.c W5): a round past the nesting depth moves
  # its ops to a carrier under the channel's lock, the carrier holding the
  # channel's memory; the move without that lock, or a carrier without that
  # count, breaks.
  ferry_add_model(chan_carry "pass/canceller " "fail -DNO_CHAN_LOCK" "assert -DNO_LIVE")
  # The lock-free ring's sleep/wake handshake (src/chan_lf.c,
  # src/chan_move.c): each missing fence, the missing waiter check and the
  # missing settle after a receive strand a sleeper.
  ferry_add_model(chan_lf_wake "pass " "pass -DLEFT=0" "pass -DTWO_PRODUCERS"
    "assert -DNO_PUSH_FENCE -DLEFT=0" "assert -DNO_POP_FENCE" "assert -DNO_SLEEP_FENCE"
    "assert -DNO_WAITER_CHECK -DLEFT=0" "assert -DNO_RECV_SETTLE")
  # The lock-free ring's one-byte sequence numbers (src/chan_lfring.h, V4):
  # exactly once, and "full" / "empty" only when true, with 2 and 3 items
  # per producer and rings of 1, 2 and 3 slots; taking "behind" as full or
  # empty without re-reading the position breaks it (a thread two laps
  # stale: the model's numbers are modulo 8), and is harmless when the
  # numbers do not wrap (M=32).
  ferry_add_model(chan_lfring "pass/consumer " "pass/producer -DPER=3" "pass -DCAP=2 -DPER=3"
    "pass -DCAP=3 -DPROD=1 -DPER=6 -DCONS=2"
    "assert -DNO_REREAD" "assert -DNO_REREAD_PUSH -DPER=3" "pass -DNO_REREAD -DPER=3 -DM=32")
elseif(FERRY_BUILD_TESTS AND NOT FERRY_SPIN)
  message(STATUS "models: spin not found, the models in models/ are not checked")
endif()
