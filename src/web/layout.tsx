import type { Child, FC, PropsWithChildren } from 'hono/jsx';

/** Where the pages are mounted (app.ts). */
export const WEB_PREFIX = '/app';

export interface NavItem {
  href: string;
  text: string;
  current?: boolean;
}

export interface LayoutProps {
  title: string;
  /** Who is signed in, for the header; none on the sign-in page. */
  user?: { name: string; team?: string; csrf: string };
  nav?: NavItem[];
  /** An error summary's presence changes the title, as the NHS.UK error summary pattern asks. */
  hasErrors?: boolean;
  /** Scripts of the page's own, under /app/assets (modules, after the content). */
  scripts?: string[];
}

/**
 * The NHS.UK page template (nhsuk-frontend's template.njk) in hono/jsx: skip link first, the
 * header with the service name and navigation, one <main id="maincontent">, the footer. No inline
 * script or style: the pages' Content-Security-Policy allows only files served under /app/assets.
 */
export const Layout: FC<PropsWithChildren<LayoutProps>> = ({ title, user, nav, hasErrors, scripts, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>{`${hasErrors ? 'Error: ' : ''}${title} – Stepwise`}</title>
      <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
      <meta name="theme-color" content="#005eb8" />
      <link rel="icon" href={`${WEB_PREFIX}/assets/images/favicon.svg`} type="image/svg+xml" />
      <link rel="stylesheet" href={`${WEB_PREFIX}/assets/nhsuk-frontend.min.css`} />
      <link rel="stylesheet" href={`${WEB_PREFIX}/assets/stepwise.css`} />
    </head>
    <body>
      <script src={`${WEB_PREFIX}/assets/js-enabled.js`}></script>
      <a class="nhsuk-skip-link" data-module="nhsuk-skip-link" href="#maincontent">
        Skip to main content
      </a>
      <Header user={user} nav={nav} />
      <div class="nhsuk-width-container">
        <main class="nhsuk-main-wrapper" id="maincontent">
          {children}
        </main>
      </div>
      <footer role="contentinfo">
        <div class="nhsuk-footer">
          <div class="nhsuk-width-container">
            <p class="nhsuk-body-s">Stepwise: community mental health pathways. Every action here is recorded in the audit trail.</p>
          </div>
        </div>
      </footer>
      <script type="module" src={`${WEB_PREFIX}/assets/init.js`}></script>
      {(scripts ?? []).map((name) => (
        <script type="module" src={`${WEB_PREFIX}/assets/${name}`}></script>
      ))}
    </body>
  </html>
);

const Header: FC<{ user?: LayoutProps['user']; nav?: NavItem[] }> = ({ user, nav }) => (
  <header class="nhsuk-header" data-module="nhsuk-header" role="banner">
    <div class="nhsuk-header__container nhsuk-width-container">
      <div class="nhsuk-header__service">
        <a class="nhsuk-header__service-logo" href={`${WEB_PREFIX}/queue`} aria-label="NHS Stepwise triage homepage">
          <svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS">
            <title>NHS</title>
            <path
              fill="currentcolor"
              d="M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z"
            />
          </svg>
          <span class="nhsuk-header__service-name">Stepwise triage</span>
        </a>
      </div>
      {user && (
        <nav class="nhsuk-header__account" aria-label="Account">
          <ul class="nhsuk-header__account-list">
            <li class="nhsuk-header__account-item">
              {user.name}
              {user.team ? `, ${user.team}` : ''}
            </li>
            <li class="nhsuk-header__account-item">
              <form class="nhsuk-header__account-form" action={`${WEB_PREFIX}/sign-out`} method="post">
                <input type="hidden" name="csrf" value={user.csrf} />
                <button class="nhsuk-header__account-button">Sign out</button>
              </form>
            </li>
          </ul>
        </nav>
      )}
    </div>
    {nav && nav.length > 0 && (
      <nav class="nhsuk-header__navigation" aria-label="Menu">
        <div class="nhsuk-header__navigation-container nhsuk-width-container">
          <ul class="nhsuk-header__navigation-list">
            {nav.map((item) => (
              <li class={`nhsuk-header__navigation-item${item.current ? ' nhsuk-header__navigation-item--current' : ''}`}>
                <a class="nhsuk-header__navigation-link" href={item.href} aria-current={item.current ? 'page' : undefined}>
                  {item.text}
                </a>
              </li>
            ))}
          </ul>
        </div>
      </nav>
    )}
  </header>
);

/** One error of a form: the field it belongs to (its id) and what to do about it. */
export interface FieldError {
  field: string;
  message: string;
}

/** The NHS.UK error summary: at the top of main, each error a link to its field. */
export const ErrorSummary: FC<{ errors: FieldError[] }> = ({ errors }) =>
  errors.length === 0 ? null : (
    <div class="nhsuk-error-summary" data-module="nhsuk-error-summary">
      <div role="alert">
        <h2 class="nhsuk-error-summary__title">There is a problem</h2>
        <div class="nhsuk-error-summary__body">
          <ul class="nhsuk-list nhsuk-error-summary__list">
            {errors.map((e) => (
              <li>
                <a href={`#${e.field}`}>{e.message}</a>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </div>
  );

/** The error message above a field, as the NHS.UK error message component. */
export const ErrorMessage: FC<{ id: string; errors: FieldError[] }> = ({ id, errors }) => {
  const error = errors.find((e) => e.field === id);
  return error ? (
    <span class="nhsuk-error-message" id={`${id}-error`}>
      <span class="nhsuk-u-visually-hidden">Error:</span> {error.message}
    </span>
  ) : null;
};

/** A success or information banner (NHS.UK notification banner). */
export const Banner: FC<{ kind: 'success' | 'important'; title: string; children?: Child }> = ({ kind, title, children }) => (
  <div class={`nhsuk-notification-banner${kind === 'success' ? ' nhsuk-notification-banner--success' : ''}`} role={kind === 'success' ? 'alert' : 'region'} aria-labelledby={`banner-${kind}`} data-module="nhsuk-notification-banner">
    <div class="nhsuk-notification-banner__header">
      <h2 class="nhsuk-notification-banner__title" id={`banner-${kind}`}>
        {kind === 'success' ? 'Success' : 'Important'}
      </h2>
    </div>
    <div class="nhsuk-notification-banner__content">
      <p class="nhsuk-notification-banner__heading">{title}</p>
      {children}
    </div>
  </div>
);

/** A form's hidden CSRF field. */
export const Csrf: FC<{ token: string }> = ({ token }) => <input type="hidden" name="csrf" value={token} />;

/** `<!DOCTYPE html>` and the page. */
export async function renderPage(page: unknown): Promise<string> {
  return `<!DOCTYPE html>${String(await (page as Promise<string> | string))}`;
}
