// A part of a page loaded on demand (React.lazy) that cannot take the page down:
// when its code cannot be fetched (the gateway went away mid-load), it shows a
// short notice with a Retry button in its place instead of unmounting the app.
import {
  Component,
  lazy,
  Suspense,
  useMemo,
  useState,
  type Attributes,
  type ComponentType,
  type ReactNode,
} from 'react';

class Boundary extends Component<{ fallback: ReactNode; children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}

interface Props<P> {
  load: () => Promise<{ default: ComponentType<P> }>;
  props: P;
  what: string; // "the chart": named in the notice
  placeholder?: ReactNode; // while loading
}

export function LazyPart<P extends object>({ load, props, what, placeholder }: Props<P>) {
  const [attempt, setAttempt] = useState(0);
  // a new lazy component per attempt: React keeps a failed import's error otherwise
  const Part = useMemo(() => lazy(load), [load, attempt]);
  const notice = (
    <div className="lazy-failed" role="alert">
      <span>Could not load {what}.</span>{' '}
      <button type="button" className="btn btn-small" onClick={() => setAttempt((n) => n + 1)}>
        Retry
      </button>
    </div>
  );
  return (
    <Boundary key={attempt} fallback={notice}>
      <Suspense fallback={placeholder ?? null}>
        <Part {...(props as P & Attributes)} />
      </Suspense>
    </Boundary>
  );
}
