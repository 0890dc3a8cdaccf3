// The Pulumi program's entry (Pulumi.yaml `main`): index.ts as built to bin/ by
// `npm run build`. It sits at the project root because Pulumi runs a program in
// the folder of its `main`, and relative paths in stack config (the local stack's
// kubeconfig) are relative to the project; package.json's entry points are the
// library's, which Pulumi would otherwise take for the program.
module.exports = require("./bin/index.js");
