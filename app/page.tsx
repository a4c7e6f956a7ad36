import { Workbench } from '@/components/Workbench';

export default function Page() {
  return (
    <main className="page">
      <header className="masthead">
        <h1>QKViz</h1>
        <p className="tagline">
          Every query and key of every attention head of a real transformer, computed from your text in the browser.
        </p>
      </header>
      <Workbench />
    </main>
  );
}
