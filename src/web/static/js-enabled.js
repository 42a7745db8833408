// Run at the start of <body> (the NHS.UK frontend's template does this inline; the pages' CSP
// allows no inline script): components that need JavaScript style themselves once it is known.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
