# SPDX-License-Identifier: MIT
# Spin models of the channel's protocols (models/*.pml), checked when spin is
# installed (scripts/deps.sh test installs it), once per suite: in release
# builds. Each configuration that must hold runs, and each broken variant
# must be rejected.
find_program(FERRY_SPIN spin)
if(FERRY_BUILD_TESTS AND FERRY_SPIN AND FERRY_SANITIZE STREQUAL "" AND CMAKE_BUILD_TYPE STREQUAL "Release")
  # models/chan_lf_wake.pml: the lock-free ring's sleep/wake handshake.
  add_test(NAME unit.model.chan_lf_wake
    COMMAND sh ${PROJECT_SOURCE_DIR}/models/verify.sh ${FERRY_SPIN} ${CMAKE_C_COMPILER}
            ${PROJECT_SOURCE_DIR}/models/chan_lf_wake.pml
            "pass " "pass -DLEFT=0" "pass -DTWO_PRODUCERS"
            "fail -DNO_PUSH_FENCE -DLEFT=0" "fail -DNO_POP_FENCE"
            "fail -DNO_SLEEP_FENCE" "fail -DNO_WAITER_CHECK -DLEFT=0"
            "fail -DNO_RECV_SETTLE")
  set_tests_properties(unit.model.chan_lf_wake PROPERTIES LABELS unit TIMEOUT 300
    PASS_REGULAR_EXPRESSION "PASS: chan_lf_wake.pml")
elseif(FERRY_BUILD_TESTS AND NOT FERRY_SPIN)
  message(STATUS "chan: spin not found, the channel models are not checked")
endif()
