// Bundles editor.js into static/vendor/editor/editor.js (one minified IIFE) and gathers the
// licenses of every package that ends up in it into LICENSES.txt. Run by scripts/build-editor.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "static", "vendor", "editor");
// Licenses we know allow shipping the code inside the app; anything else stops the build so a
// person looks at it before it reaches classrooms.
const ALLOWED = new Set(["MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "0BSD"]);

mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(here, "editor.js")],
  outfile: join(out, "editor.js"),
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2020"], // the browsers a classroom has; CodeMirror itself needs ES2018+
  legalComments: "none", // their texts go to LICENSES.txt instead, whole
  banner: { js: "/* Kube Tutor YAML editor. Built from frontend/editor by scripts/build-editor; licenses in LICENSES.txt. */" },
  metafile: true,
  logLevel: "warning",
});

// The packages whose code is in the bundle, from the files esbuild actually read.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//g);
  if (!match) continue;
  const dir = join(here, input.slice(0, input.lastIndexOf(match[match.length - 1]) + match[match.length - 1].length));
  if (!packages.has(dir)) packages.set(dir, JSON.parse(readFileSync(join(dir, "package.json"), "utf8")));
}

const sections = [];
for (const [dir, meta] of [...packages].sort((a, b) => a[1].name.localeCompare(b[1].name))) {
  if (!ALLOWED.has(meta.license)) throw new Error(`${meta.name}: license ${meta.license} is not on the allowed list`);
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  if (!file) throw new Error(`${meta.name}: no license file to ship`);
  const repo = typeof meta.repository === "string" ? meta.repository : meta.repository?.url;
  sections.push(
    [`${meta.name} ${meta.version} (${meta.license})`, repo ? `${repo.replace(/^git\+/, "")}` : null, "", readFileSync(join(dir, file), "utf8").trim()]
      .filter((l) => l !== null)
      .join("\n"),
  );
}
const rule = "\n\n" + "-".repeat(78) + "\n\n";
writeFileSync(
  join(out, "LICENSES.txt"),
  "The licenses of the packages bundled into editor.js (gathered by frontend/editor/build.mjs).\n" + rule + sections.join(rule) + "\n",
);

const bundle = readFileSync(join(out, "editor.js"));
console.log(
  `editor.js: ${bundle.length} bytes minified, ${gzipSync(bundle).length} gzipped; ${packages.size} packages in LICENSES.txt`,
);
