/* The ABI probe: one exported function whose parameters reach every struct,
 * function-pointer type and enum of the ABI, so that `abidw` over this file
 * built with -g records the whole ABI. Include/pincer/layout/abi-1.0.abixml
 * is that record for the released 1.0; LayoutTests compares each build with
 * it through `abidiff` (scripts/abi-baseline writes it, for a new version only). */
#include <pincer/pincer.h>

PINCER_EXPORT void pincer_abi_probe(
    const pincer_plugin_entry *entry, const pincer_host *host, const pincer_spawn_request *spawn_request,
    const pincer_spawn_result *spawn_result, const pincer_prompt_request *prompt_request, const pincer_run_ref *run_ref, const pincer_run_info *run_info,
    const pincer_rate_limit_result *rate_limit, const pincer_tool_call *tool_call,
    const pincer_tool_definition *tool_definition, const pincer_hook_event *hook_event,
    const pincer_hook_decision *hook_decision, const pincer_hook_definition *hook_definition,
    enum pincer_result_code result, enum pincer_log_level_code level, enum pincer_run_status_code status,
    enum pincer_steer_outcome_code steer, enum pincer_hook_point_code point, enum pincer_hook_verdict_code verdict) {
    (void)entry, (void)host, (void)spawn_request, (void)spawn_result, (void)prompt_request, (void)run_ref, (void)run_info;
    (void)rate_limit, (void)tool_call, (void)tool_definition, (void)hook_event, (void)hook_decision;
    (void)hook_definition, (void)result, (void)level, (void)status, (void)steer, (void)point, (void)verdict;
}
