#!/usr/bin/env node
// tpserve CLI entry: runs the compiled CLI (npm run build produces dist/).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write('tpserve: not built yet; run `npm run build` in ' + path.join(__dirname, '..') + '\n');
  process.exit(1);
}
require(main);
