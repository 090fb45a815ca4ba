// Starts `flowspec lsp` over stdio for the workspace's flowspec specs.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");
const { clientSettings } = require("./settings");

let client;

async function start() {
  const config = vscode.workspace.getConfiguration("flowspec");
  const settings = clientSettings((name, fallback) => config.get(name, fallback));
  client = new LanguageClient(
    "flowspec",
    "flowspec",
    { ...settings.server, transport: TransportKind.stdio },
    { documentSelector: settings.documentSelector },
  );
  await client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("flowspec.restartServer", async () => {
      if (client) {
        await client.stop();
      }
      await start();
    }),
  );
  await start();
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
