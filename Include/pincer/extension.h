/*
 * pincer/extension.h — how the ABI grows without breaking a shipped plugin.
 *
 * Published structs are frozen forever: no field is ever added, removed,
 * reordered or retyped in pincer_host, pincer_plugin_entry or any struct they
 * reach, once the version that introduced them is released. New capability
 * arrives as a new table behind a versioned string id:
 *
 *     const pincer_acp_v1 *acp = host->get_extension(host, "pincer.acp/1");
 *     if (acp == NULL) { ... this host has no ACP support: degrade ... }
 *
 * The id is "<vendor>.<name>/<revision>"; the "pincer." vendor prefix is the
 * project's own. A changed table is a new revision ("pincer.acp/2"), and the
 * host keeps serving "/1" for the plugins compiled against it. The same rule
 * holds the other way: the host asks the plugin's entry->get_extension for the
 * tables a plugin offers. Each table id is introduced in its own header,
 * which names the minor ABI version that added it.
 *
 * An id is matched exactly: "pincer.acp/1x" or "pincer.acp" is unknown.
 */
#ifndef PINCER_EXTENSION_H
#define PINCER_EXTENSION_H

/* ABI 1.0 defines no host extensions yet; later minors add their ids here. */

#endif /* PINCER_EXTENSION_H */
