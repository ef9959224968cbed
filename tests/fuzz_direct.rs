//! A generated case is built straight from its document (`Loader::build`), and its YAML
//! is written only when it becomes a finding. The two forms must be one case: built
//! directly or written as YAML and parsed back, a case loads into the same steps and
//! runs the same calls to the same verdicts — against the clean emulator and against
//! planted bugs, so diverging cases are compared too.

mod fuzz_support;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rekcon::fuzz::exec::{Executor, InProcessExecutor};
use rekcon::fuzz::generate::{Fixture, GenConfig, Generated, case_strategy, generate, to_document, to_yaml};
use rekcon::report::{ScenarioReport, Verdict};
use rekcon::scenario::{Loader, Scenario};
use rekcon::serve::{Mutant, ServeConfig};
use serde_json::Value;

const DESCRIPTION: &str = "A generated case.";

/// `count` cases drawn with `seed`, as `rekcon fuzz` draws them (15% invalid).
fn cases(seed: u8, count: usize) -> Vec<Generated> {
    let root = fuzz_support::root();
    let config = GenConfig { fixtures: Fixture::load_dir(&root.join("images")).expect("fixture images") };
    let mut runner =
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]));
    let strategy = case_strategy(0.15, 30);
    (0..count)
        .map(|_| generate(&strategy.new_tree(&mut runner).expect("a case").current(), &config))
        .collect()
}

/// The case built from its document, and the case written as YAML and parsed back.
fn both(loader: &mut Loader, i: usize, generated: &Generated) -> (Scenario, Scenario) {
    let root = fuzz_support::root();
    let (name, path) = (format!("fuzz/case-{i}"), root.join(format!("fuzz/case-{i}.yaml")));
    let (document, steps_at) = to_document(generated, DESCRIPTION);
    let built = loader.build(&name, &path, &document, &steps_at).expect("the document loads");
    let yaml = to_yaml(generated, DESCRIPTION);
    let parsed = loader.parse(&name, &path, &yaml).unwrap_or_else(|e| panic!("{e}\n{}", short(&yaml)));
    (built, parsed)
}

/// What a call did, without its timing (and the wall clock the emulator stamps).
fn calls(report: &ScenarioReport) -> Vec<String> {
    report
        .records
        .iter()
        .map(|r| {
            let mut observed = serde_json::to_value(&r.observed).expect("serialisable");
            strip_timestamps(&mut observed);
            format!(
                "step {} line {} poll {} polls {} {} raw {} {} -> {} findings {:?}",
                r.step,
                r.line,
                r.settle_poll,
                r.settle_polls,
                r.target,
                r.raw,
                r.request,
                observed,
                r.findings
                    .iter()
                    // The wall clock differs between the twins.
                    .map(|f| if f.mismatch.path.contains("CreationTimestamp") {
                        format!("{:?} {} {}", f.layer, f.mismatch.path, f.mismatch.expected)
                    } else {
                        format!("{:?} {:?}", f.layer, f.mismatch)
                    })
                    .collect::<Vec<_>>()
            )
        })
        .collect()
}

/// Text cut to a readable length (images are long).
fn short(text: &str) -> String {
    text.lines()
        .map(|line| match line.char_indices().nth(300) {
            Some((at, _)) => format!("{}…", &line[..at]),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn strip_timestamps(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("CreationTimestamp");
            map.values_mut().for_each(strip_timestamps);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_timestamps),
        _ => {}
    }
}

/// Runs each case both ways on twin emulators (same seed, same case numbers) and
/// compares steps, calls and verdicts; returns how many cases diverged.
fn compare(serve: &ServeConfig, seed: u8, count: usize) -> usize {
    let mut loader = Loader::new(&fuzz_support::root());
    let mut direct = InProcessExecutor::new(serve, "twin", true);
    let mut from_yaml = InProcessExecutor::new(serve, "twin", true);
    let mut diverged = 0;
    for (i, generated) in cases(seed, count).iter().enumerate() {
        let (built, parsed) = both(&mut loader, i + 1, generated);
        let yaml = to_yaml(generated, DESCRIPTION);
        assert_eq!(built.description, parsed.description, "{}", short(&yaml));
        assert_eq!(built.tags, parsed.tags);
        assert_eq!(built.collections, parsed.collections, "{}", short(&yaml));
        let names = |s: &Scenario| s.images.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&built), names(&parsed), "{}", short(&yaml));
        assert_eq!(built.steps.len(), parsed.steps.len(), "{}", short(&yaml));
        for (b, p) in built.steps.iter().zip(&parsed.steps) {
            assert_eq!(
                (b.index, b.line, b.column),
                (p.index, p.line, p.column),
                "step places\n{}",
                short(&yaml)
            );
            let (built_step, parsed_step) =
                (format!("{:?} {:?}", b.action, b.captures), format!("{:?} {:?}", p.action, p.captures));
            assert!(built_step == parsed_step, "{}\n{}", short(&built_step), short(&parsed_step));
        }
        let (a, b) = (direct.run(i + 1, &built), from_yaml.run(i + 1, &parsed));
        assert_eq!(a.verdict, b.verdict, "case {i}:\n{}", short(&yaml));
        let (a_calls, b_calls) = (calls(&a), calls(&b));
        assert_eq!(a_calls.len(), b_calls.len(), "case {i}:\n{}", short(&yaml));
        for (x, y) in a_calls.iter().zip(&b_calls) {
            assert!(x == y, "case {i}: built\n{}\nfrom YAML\n{}", short(x), short(y));
        }
        assert!(!a.records.is_empty(), "case {i} made no call:\n{}", short(&yaml));
        diverged += usize::from(matches!(a.verdict, Verdict::Diverged { .. }));
    }
    diverged
}

#[test]
fn built_cases_run_as_their_yaml_against_the_clean_emulator() {
    for seed in [1, 2] {
        assert_eq!(compare(&ServeConfig { seed: u64::from(seed), ..ServeConfig::default() }, seed, 40), 0);
    }
}

#[test]
fn built_cases_diverge_as_their_yaml_against_planted_bugs() {
    let mut diverged = 0;
    for (k, mutant) in Mutant::ALL.iter().enumerate() {
        let seed = 10 + k as u8;
        diverged += compare(&fuzz_support::with_mutant(*mutant, u64::from(seed)), seed, 6);
    }
    // The comparison covers diverging cases, not only passing ones.
    assert!(diverged >= 20, "only {diverged} diverging cases compared");
}

#[test]
fn a_case_with_a_character_no_yaml_file_may_hold_loads_either_way() {
    // The YAML writes every string double-quoted, with such characters escaped: a raw
    // body holding U+007F loads as text, and so it loads when built.
    let mut generated = cases(4, 1).remove(0);
    let bad = rekcon::fuzz::generate::GenStep::Raw {
        target: "RekognitionService.ListCollections".into(),
        body: "{\"NextToken\": \"a\u{7f}b\"}".into(),
    };
    generated.steps.push(bad);
    let root = fuzz_support::root();
    let mut loader = Loader::new(&root);
    let path = root.join("fuzz/bad.yaml");
    let (document, steps_at) = to_document(&generated, DESCRIPTION);
    let built = loader.build("fuzz/bad", &path, &document, &steps_at).expect("U+007F in a string loads");
    let parsed = loader.parse("fuzz/bad", &path, &to_yaml(&generated, DESCRIPTION)).expect("as in a file");
    let raw_body = |s: &rekcon::scenario::Scenario| match &s.steps.last().expect("a step").action {
        rekcon::scenario::Action::Raw { body, .. } => format!("{body:?}"),
        other => panic!("{other:?}"),
    };
    assert_eq!(raw_body(&built), raw_body(&parsed));
    assert!(raw_body(&built).contains(r"a\u{7f}b"), "{}", raw_body(&built));
}

#[test]
fn a_case_the_loader_would_refuse_as_text_is_refused_when_built() {
    let mut generated = cases(5, 1).remove(0);
    generated.steps.push(rekcon::fuzz::generate::GenStep::Call {
        op: rekcon::api::Operation::CreateUser,
        request: serde_json::json!({ "CollectionId": "${c0}", "UserID": "u" }),
        captures: Vec::new(),
    });
    let root = fuzz_support::root();
    let mut loader = Loader::new(&root);
    let path = root.join("fuzz/bad.yaml");
    let (document, steps_at) = to_document(&generated, DESCRIPTION);
    let built = loader.build("fuzz/bad", &path, &document, &steps_at).expect_err("an unknown member");
    let parsed = loader.parse("fuzz/bad", &path, &to_yaml(&generated, DESCRIPTION)).expect_err("as text");
    assert!(built.message.starts_with("unknown member `UserID` of CreateUser"), "{built}");
    assert!(parsed.message.starts_with(&built.message), "{parsed}");
    assert_eq!(built.line, parsed.line, "the step's line");
}
