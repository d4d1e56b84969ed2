# ctest driver for the noise_vectors tool (issue 3): runs TOOL on VECTORS and passes only when
# the tool exits 0 AND its last output line is exactly EXPECT (e.g. "59 passed, 0 failed").
# Usage: cmake -DTOOL=... -DVECTORS=... -DEXPECT=... -P run_noise_vectors.cmake
execute_process(COMMAND "${TOOL}" "${VECTORS}" OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
string(STRIP "${out}" trimmed)
string(REGEX MATCH "[^\n]*$" last "${trimmed}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "noise_vectors exited with ${rc}")
endif()
if(NOT last STREQUAL "${EXPECT}")
  message(FATAL_ERROR "noise_vectors printed \"${last}\", expected \"${EXPECT}\"")
endif()
