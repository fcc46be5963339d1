# The shipped default classifier model (issue 4 §5): trained at build time
# from the starter corpus models/starter/train.jsonl into
# ${CMAKE_BINARY_DIR}/models/default.sbm, where `socialbank classify` finds it
# next to the binary.  Reproducible: fixed seed and single-threaded training,
# so the same corpus and binary give the same bytes.  Not committed: the
# model is a build product (`make model` rebuilds it).
# Settings measured on models/starter/dev.jsonl (docs/ARCHITECTURE.md):
# character 3..5-grams add about 5 points of accuracy on this small corpus;
# float16 weights halve the file (7 MiB) and change no dev prediction.
set(SB_STARTER_CORPUS ${CMAKE_SOURCE_DIR}/models/starter/train.jsonl)
set(SB_DEFAULT_MODEL ${CMAKE_BINARY_DIR}/models/default.sbm)
set(SB_DEFAULT_MODEL_ARGS --epochs 50 --dim 64 --char-min 3 --char-max 5 --seed 1 --lr 0.5 --float16)
if(EXISTS ${SB_STARTER_CORPUS})
  add_custom_command(
    OUTPUT ${SB_DEFAULT_MODEL}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/models
    COMMAND $<TARGET_FILE:socialbank> train --input ${SB_STARTER_CORPUS} --model ${SB_DEFAULT_MODEL}
            ${SB_DEFAULT_MODEL_ARGS}
    DEPENDS socialbank ${SB_STARTER_CORPUS}
    COMMENT "Training the default classifier model from models/starter/"
    VERBATIM)
  add_custom_target(default_model ALL DEPENDS ${SB_DEFAULT_MODEL})
else()
  message(STATUS "models/starter/train.jsonl not found: no default classifier model")
endif()
