#!/usr/bin/env bash
# Packages the extension as editors/vscode/meshlint.vsix: installs the language client
# and vsce from the npm registry (npm ci when a lock file exists), then `vsce package`.
# Needs Node.js 20 or later and npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run package
echo "wrote $(pwd)/meshlint.vsix; install with: code --install-extension $(pwd)/meshlint.vsix"
