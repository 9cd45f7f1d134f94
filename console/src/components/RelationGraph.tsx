// The observable's relations as a small SVG graph: the observable in the middle, what it resolves
// to, contains or relates to around it. Every other node is a button that looks that observable
// up; the same pivots are listed as plain buttons under the graph for screen readers and small screens.
import type { ObservableRef } from '../api.js';
import { observableKey, type Relation } from '../results.js';

const WIDTH = 640;
const HEIGHT = 360;
const MAX_NODES = 24;

function short(text: string, max = 26): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function RelationGraph({ center, relations, onPivot }: { center: ObservableRef; relations: Relation[]; onPivot: (observable: ObservableRef) => void }) {
  const centerKey = observableKey(center);
  const nodes = new Map<string, { observable: ObservableRef; relation: string }>();
  for (const relation of relations) {
    for (const end of [relation.source, relation.related]) {
      const key = observableKey(end);
      if (key !== centerKey && !nodes.has(key) && nodes.size < MAX_NODES) nodes.set(key, { observable: end, relation: relation.relation });
    }
  }
  if (nodes.size === 0) return <p class="muted">No relations are known for this observable.</p>;
  const positions = new Map<string, { x: number; y: number }>([[centerKey, { x: WIDTH / 2, y: HEIGHT / 2 }]]);
  const list = [...nodes.entries()];
  list.forEach(([key], index) => {
    const angle = (2 * Math.PI * index) / list.length - Math.PI / 2;
    positions.set(key, { x: WIDTH / 2 + Math.cos(angle) * (WIDTH / 2 - 110), y: HEIGHT / 2 + Math.sin(angle) * (HEIGHT / 2 - 40) });
  });
  const edges = relations.filter((relation) => positions.has(observableKey(relation.source)) && positions.has(observableKey(relation.related)));
  const activate = (observable: ObservableRef) => (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onPivot(observable);
    }
  };
  return (
    <div class="graph">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="group" aria-label={`Relations of ${center.value}`} class="relation-graph">
        {edges.map((edge, index) => {
          const from = positions.get(observableKey(edge.source))!;
          const to = positions.get(observableKey(edge.related))!;
          return (
            <g key={`e${index}`} class="edge">
              <line x1={from.x} y1={from.y} x2={to.x} y2={to.y} />
              <text x={(from.x + to.x) / 2} y={(from.y + to.y) / 2 - 4} text-anchor="middle">
                {edge.relation.replace(/_/g, ' ')}
              </text>
            </g>
          );
        })}
        <g class="node node-center">
          <circle cx={WIDTH / 2} cy={HEIGHT / 2} r={10} />
          <text x={WIDTH / 2} y={HEIGHT / 2 + 26} text-anchor="middle">
            {short(center.value)}
          </text>
        </g>
        {list.map(([key, node]) => {
          const at = positions.get(key)!;
          return (
            <g
              key={key}
              class="node"
              role="button"
              tabindex={0}
              data-value={node.observable.value}
              aria-label={`Look up ${node.observable.type} ${node.observable.value}`}
              onClick={() => onPivot(node.observable)}
              onKeyDown={activate(node.observable)}
            >
              <title>{`${node.observable.type} ${node.observable.value}: look it up`}</title>
              <circle cx={at.x} cy={at.y} r={8} />
              <text x={at.x} y={at.y + 22} text-anchor="middle">
                {short(node.observable.value)}
              </text>
            </g>
          );
        })}
      </svg>
      <ul class="pivots" aria-label={`Related to ${center.value}`}>
        {list.map(([key, node]) => (
          <li key={key}>
            <button type="button" class="link-button" onClick={() => onPivot(node.observable)}>
              Look up {node.observable.value}
            </button>{' '}
            <span class="muted">
              ({node.observable.type}, {node.relation.replace(/_/g, ' ')})
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
