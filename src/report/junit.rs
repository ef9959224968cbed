//! The JUnit XML report: one test case per scenario, named by its test name.

use super::{RunReport, Verdict};

impl RunReport {
    /// The JUnit XML report. A blocked scenario is skipped, with the operation that
    /// blocked it as the message: it neither passed nor failed.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut suite = TestSuite::new("rekcon");
        for s in &self.scenarios {
            let mut status = match &s.verdict {
                Verdict::Pass => TestCaseStatus::success(),
                Verdict::NotRun { .. } | Verdict::Blocked { .. } => TestCaseStatus::skipped(),
                Verdict::Diverged { .. } | Verdict::Contradiction { .. } => {
                    TestCaseStatus::non_success(NonSuccessKind::Failure)
                }
                _ => TestCaseStatus::non_success(NonSuccessKind::Error),
            };
            if !s.passed() {
                status.set_message(format!("{} at {}", s.verdict.label(), s.location()));
                status.set_type(s.verdict.label());
                status.set_description(s.explain());
            }
            let mut case = TestCase::new(s.name.replace('/', "::"), status);
            case.set_classname(
                s.name.rsplit_once('/').map_or("scenarios", |(dir, _)| dir).replace('/', "::"),
            );
            case.set_time(s.duration);
            suite.add_test_case(case);
        }
        let mut report = Report::new("rekcon");
        report.set_time(self.duration);
        report.add_test_suite(suite);
        report.to_string().unwrap_or_else(|e| format!("<!-- cannot serialize the JUnit report: {e} -->"))
    }
}
