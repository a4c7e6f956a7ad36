import { App } from '@/components/app/App';

export default function Page() {
  return <App />;
}
