// Plain JavaScript that any Node runs, so that an old Node is told what to do instead of crashing
// on syntax or APIs it lacks. Import it before anything else.

const NEEDED = 24;

/** Stops the process with one line saying which Node runs and how to get Node 24, unless it is 24 or later. */
export function requireNode(what) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= NEEDED) return;
  console.error(
    `${what} needs Node ${NEEDED} or later, but this is Node ${process.versions.node} (${process.execPath}). ` +
      `Get Node ${NEEDED} into node_modules/.bin, which npm start and npx use, from the project's \`node\` dev dependency: ` +
      `run \`npm install\` with install scripts allowed (not --ignore-scripts; an npm that asks for approval first needs \`npm install-scripts approve node\`), or install Node ${NEEDED}.`,
  );
  process.exit(1);
}
