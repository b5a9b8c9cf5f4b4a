/**
 * The report's stylesheet, inlined into the page: the file must open offline, attached to a ticket.
 * Every text/background pair used here has a contrast ratio of at least 4.5:1 (WCAG AA), and nothing
 * is told by colour alone: each coloured mark also carries a word or an icon.
 */
export const REPORT_CSS = `
:root {
  --ink: #1a1a1a; --muted: #4d4d4d; --line: #c9ccd1; --paper: #ffffff; --panel: #f4f5f7;
  --agent-bg: #e8eefc; --agent-ink: #1d3f8f; --agent-line: #3b64c4;
  --human-bg: #fff3dc; --human-ink: #5c3a00; --human-line: #a86b00;
  --ok-bg: #e6f4ea; --ok-ink: #0b5a2a; --ok-line: #1e7b43;
  --bad-bg: #fdecea; --bad-ink: #8a1c13; --bad-line: #c5221f;
  --warn-bg: #fff4e5; --warn-ink: #6b3d00;
  --link: #0b57d0;
}
* { box-sizing: border-box; }
html { background: var(--paper); color: var(--ink); }
body {
  margin: 0 auto; padding: 24px 28px 40px; max-width: 1600px;
  font: 13px/1.45 system-ui, "Segoe UI", "Helvetica Neue", "DejaVu Sans", Arial, sans-serif;
}
h1 { font-size: 22px; margin: 2px 0 6px; }
h2 { font-size: 16px; margin: 0 0 8px; }
.eyebrow { margin: 0; color: var(--muted); font-size: 12px; letter-spacing: .06em; text-transform: uppercase; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 0 0 16px; color: var(--muted); }
.meta div { display: flex; gap: 6px; }
.meta dt { font-weight: 600; color: var(--ink); }
.meta dd { margin: 0; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
a { color: var(--link); }
.icon { vertical-align: -3px; flex: none; }

.verify { border: 2px solid; border-radius: 8px; padding: 12px 16px; margin: 0 0 16px; }
.verify h2 { display: flex; align-items: center; gap: 8px; font-size: 17px; margin: 0 0 4px; }
.verify p { margin: 4px 0; }
.verify ul { margin: 6px 0 0; padding-left: 20px; }
.verify.ok { background: var(--ok-bg); color: var(--ok-ink); border-color: var(--ok-line); }
.verify.broken { background: var(--bad-bg); color: var(--bad-ink); border-color: var(--bad-line); border-width: 3px; }
.verify .note { color: var(--ink); }

.summary { display: flex; flex-wrap: wrap; gap: 10px; margin: 0 0 18px; padding: 0; list-style: none; }
.summary li { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.summary strong { font-size: 18px; margin-right: 4px; }

.graph { margin: 0 0 18px; }
.graph figure { margin: 0; padding: 10px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  overflow-x: auto; }
.graph figcaption { color: var(--muted); margin-top: 6px; }
svg.delegation { display: block; font-family: inherit; }
svg.delegation .edge { fill: none; stroke: #555; stroke-width: 1.6; }
svg.delegation .arrowhead { fill: #555; }
svg.delegation .edge-label { font-size: 11px; fill: var(--muted); }
svg.delegation .node .box { stroke-width: 1.6; }
svg.delegation .node-human .box { fill: var(--human-bg); stroke: var(--human-line); }
svg.delegation .node-agent .box { fill: var(--agent-bg); stroke: var(--agent-line); stroke-dasharray: 6 3; }
svg.delegation .node-service .box, svg.delegation .node-unknown .box { fill: #fff; stroke: #666; }
svg.delegation .node-human .node-icon { color: var(--human-ink); fill: var(--human-ink); }
svg.delegation .node-agent .node-icon { color: var(--agent-ink); fill: var(--agent-ink); }
svg.delegation .node-service .node-icon, svg.delegation .node-unknown .node-icon { fill: #444; }
svg.delegation .node-name { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg.delegation .node-id { font-size: 11px; font-weight: 400; fill: var(--muted); }
svg.delegation .node-meta { font-size: 11.5px; fill: var(--muted); }

table { width: 100%; border-collapse: collapse; }
.table-scroll { overflow-x: auto; }
caption { text-align: left; padding: 0 0 8px; color: var(--muted); }
caption strong { color: var(--ink); }
thead th { text-align: left; font-size: 12px; background: #e9ebef; border-bottom: 2px solid #8a8f98; padding: 6px 8px;
  white-space: nowrap; }
tbody td, tbody th { padding: 6px 7px; border-bottom: 1px solid var(--line); vertical-align: top; text-align: left;
  font-weight: 400; }
tbody tr.row-agent > :first-child { border-left: 5px dashed var(--agent-line); }
tbody tr.row-human { background: var(--human-bg); }
tbody tr.row-human > :first-child { border-left: 5px solid var(--human-line); }
tbody tr.row-service > :first-child, tbody tr.row-unknown > :first-child { border-left: 5px dotted #666; }
.when time { display: block; font-weight: 600; white-space: nowrap; }
.small { display: block; font-size: 11.5px; color: var(--muted); }
.kind { display: inline-flex; align-items: center; gap: 4px; border-radius: 10px; padding: 1px 8px 1px 6px;
  font-size: 11.5px; font-weight: 700; border: 1px solid; white-space: nowrap; }
.kind-agent { background: var(--agent-bg); color: var(--agent-ink); border-color: var(--agent-line); }
.kind-human { background: #fff; color: var(--human-ink); border-color: var(--human-line); }
.kind-service, .kind-unknown { background: #fff; color: #333; border-color: #666; }
.who { display: block; font-weight: 600; margin-top: 2px; }
.nw { white-space: nowrap; }
.any { overflow-wrap: anywhere; }
.when .small { white-space: nowrap; }
.breakable { overflow-wrap: break-word; }
td.target { overflow-wrap: anywhere; min-width: 9em; }
.tag { display: inline-block; font-size: 11px; font-weight: 700; border: 1px solid currentColor; border-radius: 4px;
  padding: 0 4px; margin-left: 4px; }
.status { font-weight: 700; white-space: nowrap; }
.status.bad { color: var(--bad-ink); }
.status.good { color: var(--ok-ink); }
.status.neutral { color: var(--muted); font-weight: 400; }
.risk { white-space: nowrap; }
.risk-2, .risk-3 { font-weight: 700; color: var(--bad-ink); }
tr.unverified { outline: 2px solid var(--bad-line); outline-offset: -2px; }
.unverified-tag { display: block; color: var(--bad-ink); font-size: 11px; font-weight: 700; margin-top: 2px; }
.empty { text-align: center; padding: 18px; color: var(--muted); }
footer { margin-top: 18px; color: var(--muted); font-size: 12px; }

@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { padding: 0; max-width: none; font-size: 8.5pt; }
  thead th, tbody td, tbody th { padding: 4px 5px; }
  thead th, .when .small { white-space: normal; }
  .table-scroll { overflow: visible; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .graph figure { overflow: visible; }
  svg.delegation { max-width: 100%; height: auto; }
  thead { display: table-header-group; }
  tr, .verify, .graph { break-inside: avoid; }
  a { color: var(--ink); text-decoration: none; }
}
`;
