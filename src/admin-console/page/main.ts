import './style.css';
import { ApiError, getJson, token } from './api';
import { byId, show } from './dom';
import { HistoryView } from './history';
import { LiveView } from './live';
import { UserView } from './timeline';

type Tab = 'live' | 'history' | 'user';
const TABS: Tab[] = ['live', 'history', 'user'];

function explain(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401)
      return 'This token is not valid (expired, malformed or badly signed).';
    if (error.status === 403)
      return 'This token has no admin role: the console needs an admin token.';
    return `The service answered ${error.status}: ${error.message}`;
  }
  return 'The service could not be reached.';
}

function signOut(message = ''): void {
  token.clear();
  live.stop();
  for (const tab of TABS) show(tab, false);
  show('tabs', false);
  show('sign-out', false);
  show('sign-in', true);
  byId('sign-in-error').textContent = message;
}

function onError(error: unknown, where: string): void {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403))
    signOut(explain(error));
  else byId(where).textContent = explain(error);
}

function open(tab: Tab): void {
  for (const name of TABS) show(name, name === tab);
  for (const button of byId('tabs').querySelectorAll<HTMLButtonElement>('button'))
    button.toggleAttribute('aria-current', button.dataset.tab === tab);
  if (tab === 'history') void history.load(true);
}

function signedIn(): void {
  show('sign-in', false);
  show('tabs', true);
  show('sign-out', true);
  open('live');
  live.start();
}

const live = new LiveView(
  (error) => signOut(explain(error)),
  (userId) => {
    open('user');
    void user.show(userId);
  },
);
const history = new HistoryView(onError);
const user = new UserView(onError);

for (const button of byId('tabs').querySelectorAll<HTMLButtonElement>('button'))
  button.addEventListener('click', () => open(button.dataset.tab as Tab));
byId('sign-out').addEventListener('click', () => signOut());

byId<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const candidate = byId<HTMLTextAreaElement>('token').value.trim();
  byId('sign-in-error').textContent = '';
  // One cheap admin call tells a valid admin token from the rest before anything is kept.
  getJson('/api/v1/admin/presence?limit=1', candidate)
    .then(() => {
      token.set(candidate);
      byId<HTMLTextAreaElement>('token').value = '';
      signedIn();
    })
    .catch((error: unknown) => {
      byId('sign-in-error').textContent = explain(error);
    });
});

if (token.get() !== null) signedIn();
