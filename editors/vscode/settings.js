// What the extension asks VS Code for, from the user's settings: kept apart from
// extension.js (which needs the editor's `vscode` module) so that `npm test` checks it
// with plain Node.
"use strict";

const DEFAULTS = {
  command: "flowspec",
  args: ["lsp"],
  files: ["**/*.flowspec.yaml", "**/*.flowspec.yml", "**/flowspec/*.yaml", "**/flowspec/*.yml"],
};

/** `get(name, fallback)` reads one setting of the `flowspec` section (VS Code's
 * WorkspaceConfiguration.get). Returns the server's command line and the documents it serves:
 * only YAML files on disk matching the spec patterns, never every YAML file of a workspace. */
function clientSettings(get) {
  const command = get("server.command", DEFAULTS.command) || DEFAULTS.command;
  const args = get("server.args", DEFAULTS.args) || DEFAULTS.args;
  const files = get("files", DEFAULTS.files) || DEFAULTS.files;
  return {
    server: { command, args, options: {} },
    documentSelector: files.map((pattern) => ({ scheme: "file", language: "yaml", pattern })),
  };
}

module.exports = { clientSettings, DEFAULTS };
