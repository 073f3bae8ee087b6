// Parses each Mermaid diagram file named on the command line with Mermaid's own parser, on a
// DOM from jsdom (Mermaid needs one to load). Prints `ok FILE` or `error FILE: MESSAGE` for
// each, and exits 1 when any fails.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const { window } = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
for (const name of ['window', 'document', 'navigator', 'Element', 'HTMLElement', 'SVGElement', 'DOMParser']) {
  if (!(name in globalThis)) {
    Object.defineProperty(globalThis, name, { value: window[name], configurable: true, writable: true });
  }
}

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

let failed = false;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  try {
    const parsed = await mermaid.parse(text);
    if (!parsed || parsed.diagramType !== 'flowchart-v2') {
      throw new Error(`not read as a flowchart: ${JSON.stringify(parsed)}`);
    }
    console.log(`ok ${file}`);
  } catch (error) {
    failed = true;
    console.log(`error ${file}: ${String(error && error.message ? error.message : error).replace(/\n/g, ' ')}`);
  }
}
process.exit(failed ? 1 : 0);
