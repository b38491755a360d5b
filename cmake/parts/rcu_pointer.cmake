# SPDX-License-Identifier: MIT
# Checked RCU pointers (ferry/rcu_pointer.h): every forbidden access must fail
# to compile, as C11 and as C++11, on the line that carries it; the allowed
# forms must compile; and the checked accessors must produce the same
# machine code as the unchecked macros on a plain pointer.

if(FERRY_BUILD_TESTS)
  set(rp_dir ${PROJECT_SOURCE_DIR}/tests/rcu_pointer)
  set(rp_flags -Wall -Wextra -Werror -pedantic -fsyntax-only -D_GNU_SOURCE
      -I${PROJECT_SOURCE_DIR}/include)
  set(rp_cases plain_read plain_write arithmetic pass_to_function member_access
      indirection compare_null truth_value cast_to_pointer unchecked_dereference
      unchecked_assign checked_on_plain assign_wrong_type)
  foreach(lang c cxx)
    if(lang STREQUAL "c")
      set(rp_cc ${CMAKE_C_COMPILER} -std=c11)
    else()
      set(rp_cc ${CMAKE_CXX_COMPILER} -x c++ -std=c++11)
    endif()
    foreach(c ${rp_cases})
      add_test(NAME unit.rcu_pointer.rejects_${lang}_${c}
        COMMAND sh ${rp_dir}/expect_fail.sh FORBIDDEN_${c} ${rp_cc} ${rp_flags}
          -DCASE_${c} ${rp_dir}/misuse.c)
      set_tests_properties(unit.rcu_pointer.rejects_${lang}_${c} PROPERTIES LABELS unit TIMEOUT 60)
    endforeach()
    add_test(NAME unit.rcu_pointer.allows_${lang}
      COMMAND ${rp_cc} ${rp_flags} -DCASE_allowed ${rp_dir}/misuse.c)
    set_tests_properties(unit.rcu_pointer.allows_${lang} PROPERTIES LABELS unit TIMEOUT 60)
  endforeach()
  add_test(NAME unit.rcu_pointer.same_machine_code
    COMMAND sh ${rp_dir}/same_code.sh ${CMAKE_C_COMPILER} ${PROJECT_SOURCE_DIR}/include
      ${rp_dir}/same_code.c)
  set_tests_properties(unit.rcu_pointer.same_machine_code PROPERTIES LABELS unit TIMEOUT 60
    PASS_REGULAR_EXPRESSION "same machine code")
endif()
