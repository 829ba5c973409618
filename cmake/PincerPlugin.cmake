# pincer_add_plugin(<target> <source>...)   (C or C++ sources)
#
# Builds a Pincer plugin: a MODULE library that sees the ABI headers, hides
# every symbol but the entry, `pincer_plugin` or `pincer_plugin_get` (pincer-plugin.map), and lands in
# PINCER_PLUGIN_OUTPUT_DIR (default: <build>/plugins) as lib<target>.so.
# Used by this project's samples and installed for plugin authors.

function(pincer_add_plugin target)
    add_library(${target} MODULE ${ARGN})
    target_link_libraries(${target} PRIVATE Pincer::abi)
    if(NOT PINCER_PLUGIN_OUTPUT_DIR)
        set(PINCER_PLUGIN_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
    endif()
    set_target_properties(${target} PROPERTIES
        PREFIX "lib"
        C_STANDARD 11
        C_STANDARD_REQUIRED ON
        C_VISIBILITY_PRESET hidden
        CXX_STANDARD 17
        CXX_STANDARD_REQUIRED ON
        CXX_VISIBILITY_PRESET hidden
        LIBRARY_OUTPUT_DIRECTORY ${PINCER_PLUGIN_OUTPUT_DIR})
    target_link_options(${target} PRIVATE "-Wl,--version-script=${PINCER_PLUGIN_MAP}" "-Wl,--no-undefined")
endfunction()
