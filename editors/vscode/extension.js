// Starts `meshlint server` for the workspace and hands its diagnostics, hovers,
// definitions, references and quick fixes to VS Code through the official language
// client. Nothing else happens here: the server owns every answer.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

async function activate(context) {
  const config = vscode.workspace.getConfiguration('meshlint');
  const command = config.get('path', 'meshlint');
  const args = ['server', ...config.get('args', [])];
  const serverOptions = {
    run: { command, args, transport: TransportKind.stdio },
    debug: { command, args, transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'yaml' },
      { scheme: 'file', language: 'json' },
    ],
    synchronize: {
      // Files changed outside the editor (git checkout, generators) are re-read.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{yaml,yml,json}'),
    },
  };
  client = new LanguageClient('meshlint', 'meshlint', serverOptions, clientOptions);
  await client.start();
  context.subscriptions.push(client);
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
