//! The linearizability checker on hand-built histories, and `concurrent:` blocks: loaded
//! with located errors, run at once by the runner and judged by the same checker.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use rekcon::api::{Operation, Request};
use rekcon::config::{Endpoint, TargetConfig};
use rekcon::expect::Observed;
use rekcon::linearize::{self, Budget, Call, Verdict};
use rekcon::model::{Model, ModelConfig};
use rekcon::report::{Repro, Verdict as ScenarioVerdict};
use rekcon::runner::{RunSettings, Runner};
use rekcon::scenario;
use rekcon::serve::{InProcess, Mutant, ServeConfig, Server};
use rekcon::target::Target;
use serde_json::{Value, json};

const C: &str = "lin";

fn request(op: Operation, body: Value) -> Request {
    Request::from_json(op, &body).expect("a valid request")
}

/// An emulator and a model that has followed every call made so far.
struct World {
    emulator: InProcess,
    model: Model,
}

impl World {
    /// A collection with one indexed face of alice, and users u1 and u2; the face's id.
    fn new() -> (World, String) {
        let mut world = World {
            emulator: InProcess::new(&ServeConfig::default()),
            model: Model::new(ModelConfig::default()),
        };
        world.call(Operation::CreateCollection, json!({ "CollectionId": C }));
        let png = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/images/alice-1.png"))
            .expect("fixture image");
        let bytes = base64::engine::general_purpose::STANDARD.encode(png);
        let Observed::Success(body) =
            world.call(Operation::IndexFaces, json!({ "CollectionId": C, "Image": { "Bytes": bytes } }))
        else {
            panic!("IndexFaces failed")
        };
        let face = body["FaceRecords"][0]["Face"]["FaceId"].as_str().expect("a FaceId").to_string();
        for user in ["u1", "u2"] {
            world.call(Operation::CreateUser, json!({ "CollectionId": C, "UserId": user }));
        }
        (world, face)
    }

    /// One call answered by the emulator and followed by the model (which must agree).
    fn call(&mut self, op: Operation, body: Value) -> Observed {
        let request = request(op, body);
        let observed = self.emulator.answer(&request);
        let allowed = self.model.allowed(&request);
        assert!(self.model.observe(&request, &allowed, &observed).conforms(), "{op} conforms");
        observed
    }
}

fn associate(user: &str, face: &str) -> Request {
    request(Operation::AssociateFaces, json!({ "CollectionId": C, "UserId": user, "FaceIds": [face] }))
}

fn call(label: &str, request: Request, observed: Observed, invoked: u64, completed: u64) -> Call {
    Call { label: label.into(), request, observed, invoked, completed }
}

/// What the emulator answers to u1 then u2 associating the face: u1 gets it, u2 is told
/// it belongs to another user. And the model before either.
fn two_associations() -> (Model, Request, Observed, Request, Observed) {
    let (mut world, face) = World::new();
    let before = world.model.clone();
    let (a, b) = (associate("u1", &face), associate("u2", &face));
    let answer_a = world.emulator.answer(&a);
    let answer_b = world.emulator.answer(&b);
    (before, a, answer_a, b, answer_b)
}

#[test]
fn overlapping_calls_are_linearizable_in_the_order_their_answers_need() {
    let (model, a, answer_a, b, answer_b) = two_associations();
    // B is listed (and invoked) first, but overlaps A: A then B explains both answers.
    let history = vec![call("B", b, answer_b, 0, 10), call("A", a, answer_a, 1, 9)];
    match linearize::check(&model, &history, Budget::default()) {
        Verdict::Linearizable { order, model, .. } => {
            assert_eq!(order, vec![1, 0], "A must come first");
            let owner = model.collections()[C].faces.values().next().and_then(|f| f.user.clone());
            assert_eq!(owner.as_deref(), Some("u1"), "the model follows the order found");
        }
        other => panic!("expected linearizable, got {other:?}"),
    }
}

#[test]
fn the_same_answers_in_an_impossible_real_time_order_are_caught() {
    let (model, a, answer_a, b, answer_b) = two_associations();
    // B completed before A was invoked, yet B saw the face owned by A's user.
    let history = vec![call("B", b, answer_b, 0, 5), call("A", a, answer_a, 6, 9)];
    match linearize::check(&model, &history, Budget::default()) {
        Verdict::NotLinearizable(violation) => {
            assert!(violation.prefix.is_empty(), "{violation:?}");
            let explained = violation.explain(&history);
            assert!(explained.contains("B cannot come next"), "{explained}");
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn one_face_taken_by_two_users_at_once_is_not_linearizable() {
    let (mut world, face) = World::new();
    let model = world.model.clone();
    let a = associate("u1", &face);
    let answer_a = world.emulator.answer(&a);
    // What u2 gets alone (the same seed gives the same ids): the face, as if nobody owned it.
    let (mut alone, same_face) = World::new();
    assert_eq!(face, same_face);
    let b = associate("u2", &face);
    let answer_b = alone.emulator.answer(&b);
    let history = vec![call("A", a, answer_a, 0, 10), call("B", b, answer_b, 1, 11)];
    assert!(
        matches!(linearize::check(&model, &history, Budget::default()), Verdict::NotLinearizable(_)),
        "both users got the face"
    );
}

/// `users` CreateUser calls at once (all succeed) and a DescribeCollection at once with
/// them claiming a UserCount no order gives: only an exhaustive search can say so.
fn impossible_count(users: usize) -> (Model, Vec<Call>) {
    let (mut world, _) = World::new();
    let model = world.model.clone();
    let mut history = Vec::new();
    for u in 0..users {
        let create = request(Operation::CreateUser, json!({ "CollectionId": C, "UserId": format!("n{u}") }));
        let answer = world.emulator.answer(&create);
        history.push(call(&format!("create n{u}"), create, answer, u as u64, 1000));
    }
    let describe = request(Operation::DescribeCollection, json!({ "CollectionId": C }));
    let Observed::Success(mut body) = world.emulator.answer(&describe) else {
        panic!("DescribeCollection failed")
    };
    body["UserCount"] = json!(99);
    history.push(call("describe", describe, Observed::Success(body), 0, 1000));
    (model, history)
}

#[test]
fn a_history_too_large_for_the_budget_is_undecided_and_a_small_one_is_decided() {
    let budget = Budget { steps: 5_000 };
    let (model, history) = impossible_count(20);
    match linearize::check(&model, &history, budget) {
        Verdict::Undecided { steps, reason } => {
            assert_eq!(steps, budget.steps);
            assert!(reason.contains("budget"), "{reason}");
        }
        other => panic!("expected undecided, got {other:?}"),
    }
    let (model, history) = impossible_count(3);
    assert!(matches!(linearize::check(&model, &history, budget), Verdict::NotLinearizable(_)));
}

// ---------------------------------------------------------------------------------------------
// `concurrent:` blocks
// ---------------------------------------------------------------------------------------------

/// A scenarios folder in the temp dir with the fixture image `alice-1` and `text` as `t/s.yaml`.
fn scenarios_root(text: &str) -> (PathBuf, PathBuf) {
    let root = std::env::temp_dir().join(format!("rekcon-linear-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("images")).expect("temp dir");
    std::fs::create_dir_all(root.join("t")).expect("temp dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/images/alice-1.png");
    std::fs::copy(fixture, root.join("images/alice-1.png")).expect("fixture image");
    let file = root.join("t/s.yaml");
    std::fs::write(&file, text).expect("scenario file");
    (root, file)
}

const RACE: &str = "description: two users take one face at once, on three collections in turn
collections: [c1, c2, c3]
images: [alice-1]
steps:
  - CreateCollection: { CollectionId: \"${c1}\" }
  - IndexFaces: { CollectionId: \"${c1}\", Image: { Bytes: \"${alice-1}\" } }
    capture: { f1: \"FaceRecords[0].Face.FaceId\" }
  - CreateUser: { CollectionId: \"${c1}\", UserId: u1 }
  - CreateUser: { CollectionId: \"${c1}\", UserId: u2 }
  - concurrent:
      - AssociateFaces: { CollectionId: \"${c1}\", UserId: u1, FaceIds: [\"${f1}\"] }
      - AssociateFaces: { CollectionId: \"${c1}\", UserId: u2, FaceIds: [\"${f1}\"] }
  - ListFaces: { CollectionId: \"${c1}\" }
  - CreateCollection: { CollectionId: \"${c2}\" }
  - IndexFaces: { CollectionId: \"${c2}\", Image: { Bytes: \"${alice-1}\" } }
    capture: { f2: \"FaceRecords[0].Face.FaceId\" }
  - CreateUser: { CollectionId: \"${c2}\", UserId: u1 }
  - CreateUser: { CollectionId: \"${c2}\", UserId: u2 }
  - concurrent:
      - AssociateFaces: { CollectionId: \"${c2}\", UserId: u1, FaceIds: [\"${f2}\"] }
      - AssociateFaces: { CollectionId: \"${c2}\", UserId: u2, FaceIds: [\"${f2}\"] }
  - CreateCollection: { CollectionId: \"${c3}\" }
  - IndexFaces: { CollectionId: \"${c3}\", Image: { Bytes: \"${alice-1}\" } }
    capture: { f3: \"FaceRecords[0].Face.FaceId\" }
  - CreateUser: { CollectionId: \"${c3}\", UserId: u1 }
  - CreateUser: { CollectionId: \"${c3}\", UserId: u2 }
  - concurrent:
      - AssociateFaces: { CollectionId: \"${c3}\", UserId: u1, FaceIds: [\"${f3}\"] }
      - AssociateFaces: { CollectionId: \"${c3}\", UserId: u2, FaceIds: [\"${f3}\"] }
";

#[test]
fn a_concurrent_block_loads_as_consecutive_steps_of_one_group() {
    let (root, file) = scenarios_root(RACE);
    let scenario = scenario::load_file(&root, &file).expect("loads");
    let groups: Vec<(usize, Option<usize>)> =
        scenario.steps.iter().map(|s| (s.index, s.concurrent)).collect();
    assert_eq!(groups[4..7], [(5, Some(1)), (6, Some(1)), (7, None)]);
    assert_eq!(groups[11..13], [(12, Some(2)), (13, Some(2))]);
    assert_eq!(scenario.steps[5].line, 12);
    assert_eq!(scenario.steps.iter().filter(|s| s.concurrent.is_some()).count(), 6);
}

#[test]
fn concurrent_block_errors_name_the_file_line_and_column() {
    let head = "description: d\ncollections: [c]\nsteps:\n  - CreateCollection: { CollectionId: \"${c}\" }\n";
    let cases = [
        (
            "  - concurrent:\n      - CreateUser: { CollectionId: \"${c}\", UserId: a }\n        expect: success\n      - ListUsers: { CollectionId: \"${c}\" }\n",
            "t/s.yaml:7:9: `expect` is not allowed inside `concurrent`",
        ),
        (
            "  - concurrent:\n      - CreateUser: { CollectionId: \"${c}\", UserId: a }\n",
            "t/s.yaml:6:7: a `concurrent` block holds 2 to 16 steps, not 1",
        ),
        (
            "  - concurrent: [ ]\n    capture: { x: y }\n",
            "t/s.yaml:6:5: a `concurrent` step holds only its list of steps, not `capture` beside it",
        ),
        (
            "  - concurrent: { CreateUser: {} }\n",
            "t/s.yaml:5:17: `concurrent` takes a list of steps, not a mapping",
        ),
        (
            "  - concurrent:\n      - raw: { operation: ListUsers, body: '{}' }\n      - ListUsers: { CollectionId: \"${c}\" }\n",
            "t/s.yaml:6:9: `raw` is not allowed inside `concurrent`",
        ),
        (
            "  - concurrent:\n      - CreatUser: { CollectionId: \"${c}\", UserId: a }\n      - ListUsers: { CollectionId: \"${c}\" }\n",
            "t/s.yaml:6:9: unknown operation `CreatUser` (did you mean `CreateUser`?)",
        ),
    ];
    for (steps, expected) in cases {
        let (root, file) = scenarios_root(&format!("{head}{steps}"));
        let error = scenario::load_file(&root, &file).expect_err("must not load").to_string();
        let shown = error.replace(&format!("{}/", root.display()), "");
        assert!(shown.starts_with(expected), "for\n{steps}\ngot: {shown}\nwanted: {expected}");
    }
}

async fn run_race(mutants: Vec<Mutant>) -> rekcon::report::ScenarioReport {
    let config = ServeConfig { mutants, ..ServeConfig::default() };
    let account = config.account.clone();
    let server = Server::start(config).await.expect("the emulator starts");
    let mut target = TargetConfig::new(Endpoint::BuiltIn(server.url()));
    target.attempt_timeout = Duration::from_secs(5);
    let target = Target::connect(&target).await.expect("the SDK client builds");
    let mut settings = RunSettings::new(Repro::Cli { flags: String::new() });
    settings.model = ModelConfig {
        region: Some(target.region().to_string()),
        account: Some(account),
        ..ModelConfig::default()
    };
    let runner = Runner::new(target, settings);
    let (root, file) = scenarios_root(RACE);
    let scenario = scenario::load_file(&root, &file).expect("loads");
    let report = runner.run_scenario(1, &scenario).await;
    let counts = runner.linear_counts();
    assert!(counts.checked >= 1 && counts.undecided == 0, "{counts:?}");
    server.shutdown().await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_sends_a_block_at_once_and_judges_it_by_the_checker() {
    let clean = run_race(Vec::new()).await;
    assert_eq!(clean.verdict, ScenarioVerdict::Pass, "{:?}", clean.records);
    let noted =
        clean.records.iter().filter_map(|r| r.note.as_deref()).find(|n| n.contains("linearizable as"));
    assert!(noted.is_some(), "the order found is noted");

    let race = Mutant::from_name("race-associate-owner-check").expect("a planted race");
    let raced = run_race(vec![race]).await;
    assert!(matches!(raced.verdict, ScenarioVerdict::Diverged { .. }), "{:?}", raced.verdict);
    let finding = raced.records.iter().flat_map(|r| &r.findings).next().expect("a finding");
    assert!(finding.mismatch.expected.starts_with("an order of concurrent steps"), "{finding:?}");
    // Nothing after the block is judged against a guess of the state.
    let stop = raced.stop.as_ref().expect("the scenario stops after the violation");
    assert!(stop.reason.contains("state after them is unknown"), "{}", stop.reason);
}
