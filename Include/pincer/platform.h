/*
 * pincer/platform.h — the few macros every other header leans on.
 *
 *   PINCER_ABI     the calling convention of every function that crosses the
 *                  boundary, both ways. Empty on the platforms Pincer supports
 *                  today (the platform's C convention); spelled out so that a
 *                  port to a platform with several conventions changes one line.
 *   PINCER_EXPORT  makes a symbol visible from the plugin's shared object.
 *                  Plugins build with hidden visibility and the version script
 *                  pincer-plugin.map, so only the entry (entry.h) is exported.
 *   PINCER_EXTERN_C_BEGIN / _END
 *                  extern "C" { … } under C++, nothing under C: every
 *                  declaration of the ABI has C linkage in both languages.
 *
 * @since 1.0
 */
#ifndef PINCER_PLATFORM_H
#define PINCER_PLATFORM_H

#define PINCER_ABI

#if defined(__GNUC__) || defined(__clang__)
#define PINCER_EXPORT __attribute__((visibility("default")))
#else
#define PINCER_EXPORT
#endif

#ifdef __cplusplus
#define PINCER_EXTERN_C_BEGIN extern "C" {
#define PINCER_EXTERN_C_END }
#else
#define PINCER_EXTERN_C_BEGIN
#define PINCER_EXTERN_C_END
#endif

#endif /* PINCER_PLATFORM_H */
