# Shell tests (tests/operator, tests/launcher): a bash script run through
# ctest with its inputs in the environment:
#   SDA_SHIM        the built shim          SDA_LAUNCHER  the built launcher
#   SDA_TESTSERVER  tests/helpers server    SDA_ACTIVATE  tests/helpers activator
#   SDA_SRC         the source tree         SDA_VERSION   the project version
#   SDA_CC          the compiler
# and what the tier adds (ENV).
include_guard(GLOBAL)

# sdadopt_shell_test(TIER NAME TIMEOUT SECONDS [ENV VAR=VALUE...]): the
# test TIER_NAME runs NAME.sh of this folder, labelled TIER.  TIMEOUT is a
# backstop only: each wait in a script is bounded and polled.
function(sdadopt_shell_test tier name)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "TIMEOUT" "ENV")
  add_test(NAME ${tier}_${name}
           COMMAND ${CMAKE_COMMAND} -E env
                   SDA_SHIM=$<TARGET_FILE:sdadopt>
                   SDA_TESTSERVER=$<TARGET_FILE:sda-testserver>
                   SDA_ACTIVATE=$<TARGET_FILE:sda-activate>
                   SDA_LAUNCHER=$<TARGET_FILE:sdadopt_launcher>
                   SDA_SRC=${PROJECT_SOURCE_DIR}
                   SDA_VERSION=${PROJECT_VERSION}
                   SDA_CC=${CMAKE_C_COMPILER}
                   ${arg_ENV}
                   bash ${CMAKE_CURRENT_SOURCE_DIR}/${name}.sh)
  set_tests_properties(${tier}_${name} PROPERTIES TIMEOUT ${arg_TIMEOUT} LABELS ${tier})
endfunction()
