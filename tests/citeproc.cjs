// citeproc-js (the CSL engine of Zotero and Mendeley), through citation-js, and citation-js's RIS and
// biblatex readers, from npm. Usage: node citeproc.cjs <folder holding node_modules/@citation-js> < request.json
// The request: {"styles": [style.csl paths], "items": [CSL-JSON items], "ris": [texts], "biblatex": [texts]}.
// Prints one JSON object: "rendered" is {style name: {item id: {"bibliography", "citation"} or {"error"}}},
// each item rendered alone so that one item's failure names that item; "ris" and "biblatex" are the
// CSL-JSON items each text reads as (or {"error"}).
const { join, basename } = require("node:path");
const { readFileSync } = require("node:fs");

const root = join(process.argv[2], "node_modules", "@citation-js");
const { Cite, plugins } = require(join(root, "core"));
for (const plugin of ["plugin-csl", "plugin-ris", "plugin-bibtex"]) require(join(root, plugin));

const request = JSON.parse(readFileSync(0, "utf8"));
const styles = plugins.config.get("@csl").styles;

function attempt(work) {
  try {
    return work();
  } catch (error) {
    return { error: String((error && error.message) || error) };
  }
}

const rendered = {};
for (const path of request.styles || []) {
  const name = basename(path, ".csl");
  styles.add(name, readFileSync(path, "utf8"));
  rendered[name] = {};
  for (const item of request.items || []) {
    rendered[name][item.id] = attempt(() => {
      const cite = new Cite([item]);
      const options = { format: "text", template: name, lang: "en-US" };
      return { bibliography: cite.format("bibliography", options).trim(),
               citation: cite.format("citation", options).trim() };
    });
  }
}
const read = (texts, type) => (texts || []).map((text) => attempt(() => new Cite(text, { forceType: type }).data));
process.stdout.write(JSON.stringify({ rendered, ris: read(request.ris, "@ris/file"),
                                      biblatex: read(request.biblatex, "@biblatex/text") }) + "\n");
