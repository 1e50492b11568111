#!/usr/bin/env node
// The `mollifier` bin. It lives outside dist/ so that package managers can link it before the
// package is built (a workspace install links bins first); the command itself is dist/reshard-cli.js.
import "../dist/reshard-cli.js";
