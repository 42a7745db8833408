// Live updates of the queue, without moving anything under the reader: every 30 seconds the page
// asks the server for the rows its first page would show now (the same search, the same
// compartment); when they differ from the rows on screen, a polite live region says so and offers
// a link to reload. Nothing reloads by itself (WCAG 2.2.1, 3.2.5), and without JavaScript the
// queue is simply as loaded.
const region = document.getElementById('queue-updates');
if (region) {
  const shown = region.dataset.rows ?? '';
  const every = Number(region.dataset.seconds ?? '30') * 1000;
  let told = false;
  const check = async () => {
    if (told || document.hidden) return;
    try {
      const res = await fetch(region.dataset.stateUrl, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const { rows } = await res.json();
      if (rows.join(',') === shown) return;
      told = true;
      const p = document.createElement('p');
      p.className = 'nhsuk-body';
      const strong = document.createElement('strong');
      strong.textContent = 'The queue has changed since you opened it. ';
      const link = document.createElement('a');
      link.href = location.href;
      link.textContent = 'Reload the queue';
      p.append(strong, link);
      region.replaceChildren(p);
    } catch {
      // offline for a moment: try again next time
    }
  };
  setInterval(check, every);
}
