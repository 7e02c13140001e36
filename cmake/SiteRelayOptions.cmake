# Project-wide compiler options live in one INTERFACE target that every SiteRelay target links,
# instead of global add_definitions/include_directories.
add_library(siterelay_options INTERFACE)
add_library(SiteRelay::options ALIAS siterelay_options)

target_compile_features(siterelay_options INTERFACE cxx_std_17)
target_compile_options(siterelay_options INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wno-missing-field-initializers>)
target_compile_definitions(siterelay_options INTERFACE
    QT_NO_CAST_FROM_ASCII
    QT_NO_CAST_TO_ASCII
    QT_NO_URL_CAST_FROM_STRING
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_USE_QSTRINGBUILDER
    QT_NO_FOREACH
    QT_NO_KEYWORDS
    QT_DISABLE_DEPRECATED_BEFORE=0x060400
    SITERELAY_VERSION="${PROJECT_VERSION}")

option(SITERELAY_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(SITERELAY_SANITIZE)
    target_compile_options(siterelay_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(siterelay_options INTERFACE -fsanitize=address,undefined)
endif()
