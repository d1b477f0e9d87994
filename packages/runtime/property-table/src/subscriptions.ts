import { ANY, END, type Pattern, type PropertyPath } from "./path.js";

export interface Subscription<L> {
  readonly id: number;
  readonly pattern: Pattern;
  readonly listener: L;
  active: boolean;
}

interface IndexNode<L> {
  children: Map<string, IndexNode<L>> | undefined;
  any: IndexNode<L> | undefined;
  /** Patterns that end here: they match this path and everything below it. */
  prefix: Subscription<L>[] | undefined;
  /** Patterns that end here with END: they match this exact path only. */
  exact: Subscription<L>[] | undefined;
}

const newNode = <L>(): IndexNode<L> => ({
  children: undefined,
  any: undefined,
  prefix: undefined,
  exact: undefined,
});

/**
 * Subscriptions in a segment trie with a separate branch for `ANY`, so finding the subscribers of
 * a changed property walks only the branches that can match it. The cost depends on the property
 * and the matching patterns, not on how many non-matching subscriptions exist.
 */
export class SubscriptionIndex<L> {
  private readonly root = newNode<L>();
  private nextId = 1;

  add(pattern: Pattern, listener: L): Subscription<L> {
    const subscription: Subscription<L> = { id: this.nextId++, pattern, listener, active: true };
    let node = this.root;
    for (const segment of pattern) {
      if (segment === END) {
        node.exact ??= [];
        node.exact.push(subscription);
        return subscription;
      }
      if (segment === ANY) {
        node.any ??= newNode();
        node = node.any;
      } else {
        node.children ??= new Map();
        let child = node.children.get(segment);
        if (!child) {
          child = newNode();
          node.children.set(segment, child);
        }
        node = child;
      }
    }
    node.prefix ??= [];
    node.prefix.push(subscription);
    return subscription;
  }

  remove(subscription: Subscription<L>): void {
    subscription.active = false;
    const trail: Array<{
      parent: IndexNode<L>;
      segment: string | typeof ANY;
      child: IndexNode<L>;
    }> = [];
    let node = this.root;
    let list: Subscription<L>[] | undefined;
    for (const segment of subscription.pattern) {
      if (segment === END) {
        list = node.exact;
        break;
      }
      const child = segment === ANY ? node.any : node.children?.get(segment);
      if (!child) return;
      trail.push({ parent: node, segment, child });
      node = child;
    }
    list ??= node.prefix;
    const position = list?.indexOf(subscription) ?? -1;
    if (!list || position < 0) return;
    list.splice(position, 1);
    if (node.exact?.length === 0) node.exact = undefined;
    if (node.prefix?.length === 0) node.prefix = undefined;
    // Prune the branch bottom-up while nodes hold nothing, so churn does not grow the index.
    for (let depth = trail.length - 1; depth >= 0; depth--) {
      const { parent, segment, child } = trail[depth]!;
      if (!isEmpty(child)) break;
      if (segment === ANY) parent.any = undefined;
      else {
        parent.children!.delete(segment);
        if (parent.children!.size === 0) parent.children = undefined;
      }
    }
  }

  /** Whether the index holds no subscription at all (for tests of pruning). */
  get empty(): boolean {
    return isEmpty(this.root);
  }

  /** Active subscriptions matching `property`, in the order they were made. */
  collect(property: PropertyPath): Subscription<L>[] {
    const found: Subscription<L>[] = [];
    const visit = (node: IndexNode<L>, depth: number): void => {
      if (node.prefix) found.push(...node.prefix);
      if (depth === property.length) {
        if (node.exact) found.push(...node.exact);
        return;
      }
      const child = node.children?.get(property[depth]!);
      if (child) visit(child, depth + 1);
      if (node.any) visit(node.any, depth + 1);
    };
    visit(this.root, 0);
    if (found.length > 1) found.sort((a, b) => a.id - b.id);
    return found;
  }
}

function isEmpty<L>(node: IndexNode<L>): boolean {
  return !node.children?.size && !node.any && !node.prefix?.length && !node.exact?.length;
}
