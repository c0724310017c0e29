/**
 * Rule tests: fixtures of sample messages with expected outcomes, run offline
 * through the real serde (see docs/testing.md).
 */
export { FixtureError, parseFixture, type Expectation, type Fixture, type FixtureCase, type FixtureMode, type FixtureReader } from "./fixture.js";
export { runFixtures, type CaseResult, type ObservedOutcome, type RuleCoverage, type RunFixturesOptions, type TestReport, type TestSummary } from "./run.js";
export { formatTestReport, testReportJunit, type TestFormatOptions } from "./report.js";
