// Package appconfig is an app's effective configuration, read the way abra reads it: the app's
// .env (or the recipe's .env.sample) parsed like abra's dotenv reader ($VAR expansion from earlier
// lines, quotes, `export `, inline comments and the `# length=N` modifiers), the `export` lines of
// the recipe's abra.sh, and every compose file COMPOSE_FILE selects, interpolated and merged into
// one compose-go model. Preflight, the policy check, the data floor, the resource limits and the
// abra test double all read this one model, so they never disagree about what a recipe says.
//
// The public sources each behaviour is taken from are cited beside the code and collected in
// docs/abra-contract.md.
package appconfig
