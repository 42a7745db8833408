import type { FC } from 'hono/jsx';
import type { Team } from './context.js';
import { Csrf, ErrorMessage, ErrorSummary, Layout, WEB_PREFIX, type FieldError } from './layout.js';

export interface SignInProps {
  mode: 'development' | 'token';
  csrf: string;
  errors: FieldError[];
  /** Development mode: the practitioners one may act as, and the teams. */
  practitioners?: { reference: string; name: string }[];
  teams?: Team[];
  chosen?: { practitioner?: string; team?: string };
  /** Why the previous session ended, if it did. */
  notice?: string;
}

/**
 * Sign-in. Development mode (STEPWISE_AUTH=off): choose who to act as and for which team, as the
 * development principal. Auth on: paste the token the identity provider issued (the same token an
 * app would send as a bearer token); it is verified now and on every request.
 */
export const SignInPage: FC<SignInProps> = (p) => (
  <Layout title="Sign in" hasErrors={p.errors.length > 0}>
    <div class="nhsuk-grid-row">
      <div class="nhsuk-grid-column-two-thirds">
        <ErrorSummary errors={p.errors} />
        <h1>Sign in</h1>
        {p.notice && <p class="nhsuk-body">{p.notice}</p>}
        {p.mode === 'development' ? <DevelopmentForm {...p} /> : <TokenForm {...p} />}
      </div>
    </div>
  </Layout>
);

const DevelopmentForm: FC<SignInProps> = ({ csrf, errors, practitioners = [], teams = [], chosen = {} }) => (
  <>
    <div class="nhsuk-inset-text">
      <span class="nhsuk-u-visually-hidden">Information: </span>
      <p>Development mode (STEPWISE_AUTH=off): anyone may act as anyone. Turn authentication on before real use.</p>
    </div>
    {practitioners.length === 0 ? (
      <p class="nhsuk-body">
        There are no practitioners yet. Create a Practitioner through the FHIR API (<code>POST /fhir/Practitioner</code>), then reload this page.
      </p>
    ) : (
      <form action={`${WEB_PREFIX}/sign-in`} method="post" novalidate>
        <Csrf token={csrf} />
        <RadioGroup name="practitioner" legend="Who are you?" errors={errors} options={practitioners.map((x) => ({ value: x.reference, text: x.name }))} chosen={chosen.practitioner} />
        <RadioGroup name="team" legend="Which team's queue are you working?" errors={errors} options={teams.map((t) => ({ value: t.code, text: t.name }))} chosen={chosen.team} />
        <button class="nhsuk-button" type="submit" data-module="nhsuk-button">
          Sign in
        </button>
      </form>
    )}
  </>
);

const TokenForm: FC<SignInProps> = ({ csrf, errors }) => (
  <form action={`${WEB_PREFIX}/sign-in`} method="post" novalidate>
    <Csrf token={csrf} />
    <div class={`nhsuk-form-group${errors.some((e) => e.field === 'token') ? ' nhsuk-form-group--error' : ''}`}>
      <label class="nhsuk-label" for="token">
        Your token from the identity provider
      </label>
      <div class="nhsuk-hint" id="token-hint">
        The access token your NHS identity provider gave you. It is checked now, kept only in a secure cookie of this browser, and you are signed out when it expires.
      </div>
      <ErrorMessage id="token" errors={errors} />
      <textarea class={`nhsuk-textarea${errors.some((e) => e.field === 'token') ? ' nhsuk-textarea--error' : ''}`} id="token" name="token" rows={5} autocomplete="off" spellcheck={false} aria-describedby={`token-hint${errors.some((e) => e.field === 'token') ? ' token-error' : ''}`}></textarea>
    </div>
    <button class="nhsuk-button" type="submit" data-module="nhsuk-button">
      Sign in
    </button>
  </form>
);

export interface RadioOption {
  value: string;
  text: string;
  hint?: string;
}

/** NHS.UK radios in a fieldset with a legend; the first radio carries the group's id, so the error summary's link reaches it. */
export const RadioGroup: FC<{ name: string; legend: string; hint?: string; options: RadioOption[]; chosen?: string; errors: FieldError[] }> = ({ name, legend, hint, options, chosen, errors }) => {
  const error = errors.some((e) => e.field === name);
  const describedBy = [hint ? `${name}-hint` : '', error ? `${name}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <fieldset class="nhsuk-fieldset" aria-describedby={describedBy}>
        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">{legend}</legend>
        {hint && (
          <div class="nhsuk-hint" id={`${name}-hint`}>
            {hint}
          </div>
        )}
        <ErrorMessage id={name} errors={errors} />
        <div class="nhsuk-radios" data-module="nhsuk-radios">
          {options.map((o, i) => {
            const id = i === 0 ? name : `${name}-${i + 1}`;
            return (
              <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id={id} name={name} type="radio" value={o.value} checked={chosen === o.value} aria-describedby={o.hint ? `${id}-hint` : undefined} />
                <label class="nhsuk-label nhsuk-radios__label" for={id}>
                  {o.text}
                </label>
                {o.hint && (
                  <div class="nhsuk-hint nhsuk-radios__hint" id={`${id}-hint`}>
                    {o.hint}
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </fieldset>
    </div>
  );
};
