import { ANY, END, type Pattern, type PropertyPath } from "./path.js";

export interface Entry {
  readonly property: PropertyPath;
  value: unknown;
  timestamp: number;
}

interface StoreNode {
  children: Map<string, StoreNode> | undefined;
  entry: Entry | undefined;
}

const newNode = (): StoreNode => ({ children: undefined, entry: undefined });

/**
 * Properties in a segment trie. `get` costs one map lookup per segment; `match` visits only the
 * branches a pattern can reach instead of scanning every key.
 */
export class PropertyStore {
  private root = newNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(property: PropertyPath): Entry | undefined {
    let node: StoreNode | undefined = this.root;
    for (let index = 0; index < property.length; index++) {
      node = node.children?.get(property[index]!);
      if (!node) return undefined;
    }
    return node.entry;
  }

  /** Inserts or replaces; the caller has already decided the write is a real change. */
  set(property: PropertyPath, value: unknown, timestamp: number): void {
    let node = this.root;
    for (const segment of property) {
      node.children ??= new Map();
      let child = node.children.get(segment);
      if (!child) {
        child = newNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    if (node.entry) {
      node.entry.value = value;
      node.entry.timestamp = timestamp;
    } else {
      node.entry = { property: Object.freeze([...property]), value, timestamp };
      this.count++;
    }
  }

  /** Removes and returns the entry, pruning branches left empty. */
  delete(property: PropertyPath): Entry | undefined {
    const trail: StoreNode[] = [this.root];
    let node = this.root;
    for (const segment of property) {
      const child = node.children?.get(segment);
      if (!child) return undefined;
      trail.push(child);
      node = child;
    }
    const entry = node.entry;
    if (!entry) return undefined;
    node.entry = undefined;
    this.count--;
    for (let depth = property.length; depth > 0; depth--) {
      const current = trail[depth]!;
      if (current.entry || current.children?.size) break;
      const parent = trail[depth - 1]!;
      parent.children!.delete(property[depth - 1]!);
      if (parent.children!.size === 0) parent.children = undefined;
    }
    return entry;
  }

  clear(): void {
    this.root = newNode();
    this.count = 0;
  }

  /** Every entry whose property the pattern matches, in trie order. */
  match(pattern: Pattern): Entry[] {
    const found: Entry[] = [];
    const visit = (node: StoreNode, depth: number): void => {
      if (depth === pattern.length) {
        collectAll(node, found);
        return;
      }
      const segment = pattern[depth]!;
      if (segment === END) {
        if (node.entry) found.push(node.entry);
        return;
      }
      if (!node.children) return;
      if (segment === ANY) {
        for (const child of node.children.values()) visit(child, depth + 1);
        return;
      }
      const child = node.children.get(segment);
      if (child) visit(child, depth + 1);
    };
    visit(this.root, 0);
    return found;
  }

  all(): Entry[] {
    const found: Entry[] = [];
    collectAll(this.root, found);
    return found;
  }
}

function collectAll(node: StoreNode, found: Entry[]): void {
  if (node.entry) found.push(node.entry);
  if (node.children) for (const child of node.children.values()) collectAll(child, found);
}
