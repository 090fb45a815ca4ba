"use strict";

const assert = require("node:assert/strict");
const test = require("node:test");
const { clientSettings, DEFAULTS } = require("../settings");

function reader(values) {
  return (name, fallback) => (name in values ? values[name] : fallback);
}

test("defaults start `flowspec lsp` for spec files only", () => {
  const settings = clientSettings(reader({}));
  assert.deepEqual(settings.server, { command: "flowspec", args: ["lsp"], options: {} });
  assert.deepEqual(
    settings.documentSelector.map((s) => s.pattern),
    DEFAULTS.files,
  );
  assert.ok(settings.documentSelector.every((s) => s.scheme === "file" && s.language === "yaml"));
});

test("the user's command, arguments and patterns are used as given", () => {
  const settings = clientSettings(reader({
    "server.command": "/opt/venv/bin/flowspec",
    "server.args": ["lsp"],
    files: ["specs/*.yaml"],
  }));
  assert.equal(settings.server.command, "/opt/venv/bin/flowspec");
  assert.deepEqual(settings.documentSelector, [
    { scheme: "file", language: "yaml", pattern: "specs/*.yaml" },
  ]);
});

test("an emptied command falls back to flowspec", () => {
  assert.equal(clientSettings(reader({ "server.command": "" })).server.command, "flowspec");
});
