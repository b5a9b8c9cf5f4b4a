import type { StoredAuditEvent } from '../pipeline/event.js';
import { escapeHtml } from './escape.js';
import { type ActorKind, actorKind, KIND_LABEL, kindIconGroup } from './icons.js';

/** One identity in the delegation graph: a prefix of some rows' `delegation_chain`. */
export interface DelegationNode {
  /** The identity at the end of the prefix (e.g. `nhi:agent-7f3`). */
  id: string;
  /** A display name when the rows give one (`actor_name`). */
  name?: string;
  kind: ActorKind;
  /** Recorded actions (record type `action`) whose chain ends here: this identity acted. */
  actions: number;
  children: DelegationNode[];
}

/** Longer chains are cut: a hostile or broken row must not make the graph unreadable. */
const MAX_DEPTH = 6;
/** More nodes than this are left out of the drawing (and the figure says so). */
const MAX_NODES = 40;

/**
 * Merges the rows' delegation chains into a forest: chains that share a prefix share nodes, so
 * `["tom"]` and `["tom","nhi:agent-7f3"]` draw as Tom, who acted himself, delegating to the agent.
 */
export function delegationForest(rows: readonly StoredAuditEvent[]): DelegationNode[] {
  const kinds = identityKinds(rows);
  const names = new Map<string, string>();
  for (const r of rows) if (r.actor_id && r.actor_name) names.set(r.actor_id, r.actor_name);
  const roots: DelegationNode[] = [];
  for (const r of rows) {
    const chain = delegationChain(r).slice(0, MAX_DEPTH);
    let level = roots;
    let node: DelegationNode | undefined;
    for (const id of chain) {
      node = level.find((n) => n.id === id);
      if (!node) {
        node = { id, name: names.get(id), kind: kinds.get(id) ?? 'unknown', actions: 0, children: [] };
        level.push(node);
      }
      level = node.children;
    }
    if (node && r.record_type === 'action') node.actions++;
  }
  return roots;
}

/**
 * A row's chain from its `delegation_chain` column (a JSON array of identities, principal first);
 * when the column is missing or not such an array, the row's principal and actor stand in for it.
 */
export function delegationChain(r: StoredAuditEvent): string[] {
  if (r.delegation_chain) {
    try {
      const parsed: unknown = JSON.parse(r.delegation_chain);
      if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((x) => typeof x === 'string')) {
        return parsed as string[];
      }
    } catch {
      // Fall through: an unreadable chain still has a principal and an actor worth drawing.
    }
  }
  const chain = [r.on_behalf_of, r.actor_id].filter((x): x is string => !!x);
  return chain.length === 2 && chain[0] === chain[1] ? [chain[0]!] : chain;
}

/** What the rows say each identity is: its own `actor_type`, or the principal type of rows it is the principal of. */
function identityKinds(rows: readonly StoredAuditEvent[]): Map<string, ActorKind> {
  const kinds = new Map<string, ActorKind>();
  for (const r of rows) {
    if (!r.on_behalf_of || kinds.has(r.on_behalf_of) || !r.attributes) continue;
    try {
      const attrs = JSON.parse(r.attributes) as Record<string, unknown>;
      const kind = actorKind(String(attrs['attribution.principal.type'] ?? ''));
      if (kind !== 'unknown') kinds.set(r.on_behalf_of, kind);
    } catch {
      // A row with unreadable attributes just says nothing about its principal.
    }
  }
  // An identity's own rows are the better witness of what it is.
  for (const r of rows) if (r.actor_id && r.actor_type) kinds.set(r.actor_id, actorKind(r.actor_type));
  return kinds;
}

const NODE_W = 220;
const NODE_H = 54;
const COL_GAP = 96;
const ROW_GAP = 18;
const PAD = 8;

interface Placed {
  node: DelegationNode;
  depth: number;
  y: number;
}

/**
 * The forest as an inline SVG: principals on the left, each delegate to the right of whoever it acts
 * for; each box names the identity, its kind (icon and word) and how many actions it took itself.
 */
export function delegationGraphSvg(roots: readonly DelegationNode[]): string {
  const placed: Placed[] = [];
  const edges: [Placed, Placed][] = [];
  let slot = 0;
  // Leaves take consecutive rows; a parent sits level with the middle of its children, so a plain
  // chain reads as one straight line of arrows.
  const place = (node: DelegationNode, depth: number): Placed | undefined => {
    if (placed.length >= MAX_NODES) return undefined;
    const self: Placed = { node, depth, y: 0 };
    placed.push(self);
    const kids = node.children.map((c) => place(c, depth + 1)).filter((p): p is Placed => !!p);
    if (kids.length === 0) self.y = slot++;
    else self.y = (kids[0]!.y + kids[kids.length - 1]!.y) / 2;
    for (const k of kids) edges.push([self, k]);
    return self;
  };
  for (const r of roots) place(r, 0);
  const total = countNodes(roots);
  const depth = Math.max(0, ...placed.map((p) => p.depth));
  const width = PAD * 2 + (depth + 1) * NODE_W + depth * COL_GAP;
  const height = PAD * 2 + Math.max(1, slot) * NODE_H + Math.max(0, slot - 1) * ROW_GAP;
  const x = (p: Placed) => PAD + p.depth * (NODE_W + COL_GAP);
  const y = (p: Placed) => PAD + p.y * (NODE_H + ROW_GAP);

  const arrows = edges.map(([from, to]) => {
    const x1 = x(from) + NODE_W;
    const y1 = y(from) + NODE_H / 2;
    const x2 = x(to) - 2;
    const y2 = y(to) + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    return (
      `<path class="edge" d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}" marker-end="url(#arrow)"/>` +
      `<text class="edge-label" x="${mid}" y="${(y1 + y2) / 2 - 6}" text-anchor="middle">delegates to</text>`
    );
  });
  const boxes = placed.map((p) => nodeBox(p.node, x(p), y(p)));
  const summary = describe(roots);
  const cut = total > placed.length ? ` (${total - placed.length} more identities not drawn)` : '';
  return (
    `<svg class="delegation" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="dg-title dg-desc">` +
    `<title id="dg-title">Delegation chains in this report${escapeHtml(cut)}</title>` +
    `<desc id="dg-desc">${escapeHtml(summary)}</desc>` +
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" ' +
    'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="arrowhead"/></marker></defs>' +
    `${arrows.join('')}${boxes.join('')}</svg>`
  );
}

function nodeBox(n: DelegationNode, x: number, y: number): string {
  const title = n.name && n.name !== n.id ? `${n.name} (${n.id})` : n.id;
  const line1 = clip(n.name && n.name !== n.id ? n.name : n.id, 24);
  const line2 = n.name && n.name !== n.id ? clip(n.id, 26) : '';
  // A principal who only delegated is labelled as such: "0 actions" would read like an empty box.
  const did =
    n.actions === 0 && n.children.length ? 'principal' : `${n.actions} action${n.actions === 1 ? '' : 's'}`;
  const acted = `${KIND_LABEL[n.kind].toLowerCase()} · ${did}`;
  return (
    `<g class="node node-${n.kind}"><title>${escapeHtml(`${KIND_LABEL[n.kind]}: ${title}`)}</title>` +
    `<rect class="box" x="${x}" y="${y}" width="${NODE_W}" height="${NODE_H}" rx="8"/>` +
    `<g class="node-icon">${kindIconGroup(n.kind, x + 10, y + 10, 20)}</g>` +
    `<text x="${x + 40}" y="${y + 20}" class="node-name">${escapeHtml(line1)}` +
    (line2 ? `<tspan class="node-id" dx="6">${escapeHtml(line2)}</tspan>` : '') +
    `</text><text x="${x + 40}" y="${y + 40}" class="node-meta">${escapeHtml(acted)}</text></g>`
  );
}

/** The graph in words, for screen readers and for anyone who cannot see the drawing. */
export function describe(roots: readonly DelegationNode[]): string {
  const parts: string[] = [];
  const walk = (n: DelegationNode, parent?: DelegationNode) => {
    const who = `${n.name && n.name !== n.id ? `${n.name} (${n.id})` : n.id}, ${KIND_LABEL[n.kind].toLowerCase()}`;
    const acted = `${n.actions} action${n.actions === 1 ? '' : 's'}`;
    parts.push(parent ? `${parent.id} delegates to ${who}: ${acted}.` : `${who}: ${acted} directly.`);
    for (const c of n.children) walk(c, n);
  };
  for (const r of roots) walk(r);
  return parts.join(' ');
}

function countNodes(nodes: readonly DelegationNode[]): number {
  return nodes.reduce((n, c) => n + 1 + countNodes(c.children), 0);
}

/** Cuts text to `max` characters; SVG text does not wrap and the box is fixed-width. */
function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
