//! The linearizability checker on hand-built histories, and `concurrent:` blocks: loaded
//! with located errors, run at once by the runner and judged by the same checker.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rekcon::api::{Operation, Request};
use rekcon::expect::Observed;
use rekcon::linearize::{self, Budget, Call, Verdict};
use rekcon::model::{Model, ModelConfig};
use rekcon::scenario;
use rekcon::serve::{InProcess, ServeConfig};
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
        Verdict::Linearizable { order, models, .. } => {
            assert_eq!(order, vec![1, 0], "A must come first");
            assert_eq!(models.len(), 1, "one order, one state");
            let owner = models[0].collections()[C].faces.values().next().and_then(|f| f.user.clone());
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

#[test]
fn orders_that_leave_different_states_are_all_kept_for_the_calls_after() {
    let (mut world, face) = World::new();
    let before = world.model.clone();
    let delete = request(Operation::DeleteUser, json!({ "CollectionId": C, "UserId": "u2" }));
    let create = request(Operation::CreateUser, json!({ "CollectionId": C, "UserId": "u2" }));
    let take = associate("u2", &face);
    // The endpoint deleted u2, created it again, then gave it the face. The same answers
    // fit the face going to the old u2 before the deletion, which frees it.
    let (deleted, created, taken) =
        (world.emulator.answer(&delete), world.emulator.answer(&create), world.emulator.answer(&take));
    let racing = vec![
        call("take", take, taken, 0, 10),
        call("delete", delete, deleted, 1, 10),
        call("create", create, created, 2, 10),
    ];
    let Verdict::Linearizable { models, .. } = linearize::check(&before, &racing, Budget::default()) else {
        panic!("the racing calls are linearizable")
    };
    assert_eq!(models.len(), 2, "two orders, two states");
    // Later, u1 is told the face belongs to u2: true in one of the two states only.
    let later = associate("u1", &face);
    let answer = world.emulator.answer(&later);
    let after = vec![call("later", later, answer, 20, 30)];
    assert!(matches!(
        linearize::check_from(&models, &after, Budget::default()),
        Verdict::Linearizable { .. }
    ));
    let refusing = models
        .iter()
        .filter(|m| matches!(linearize::check(m, &after, Budget::default()), Verdict::NotLinearizable(_)));
    assert_eq!(refusing.count(), 1, "kept to one state, the later call would be a false divergence");
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

/// Two users take one face at once (then a listing), on three collections in turn.
fn race() -> String {
    let mut text = String::from(
        "description: two users take one face at once, on three collections in turn\ncollections: [c1, c2, c3]\nimages: [alice-1]\nsteps:\n",
    );
    for n in 1..=3 {
        let c = format!("\"${{c{n}}}\"");
        text.push_str(&format!(
            "  - CreateCollection: {{ CollectionId: {c} }}
  - IndexFaces: {{ CollectionId: {c}, Image: {{ Bytes: \"${{alice-1}}\" }} }}
    capture: {{ f{n}: \"FaceRecords[0].Face.FaceId\" }}
  - CreateUser: {{ CollectionId: {c}, UserId: u1 }}
  - CreateUser: {{ CollectionId: {c}, UserId: u2 }}
  - concurrent:
      - AssociateFaces: {{ CollectionId: {c}, UserId: u1, FaceIds: [\"${{f{n}}}\"] }}
      - AssociateFaces: {{ CollectionId: {c}, UserId: u2, FaceIds: [\"${{f{n}}}\"] }}
  - ListFaces: {{ CollectionId: {c} }}
"
        ));
    }
    text
}

#[test]
fn a_concurrent_block_loads_as_consecutive_steps_of_one_group() {
    let (root, file) = scenarios_root(&race());
    let scenario = scenario::load_file(&root, &file).expect("loads");
    let groups: Vec<(usize, Option<usize>)> =
        scenario.steps.iter().map(|s| (s.index, s.concurrent)).collect();
    assert_eq!(groups[4..7], [(5, Some(1)), (6, Some(1)), (7, None)]);
    assert_eq!(groups[11..14], [(12, Some(2)), (13, Some(2)), (14, None)]);
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

/// `rekcon run t/s` of the race scenario (with a planted bug): its exit code and report.
fn run_race(mutant: Option<&str>) -> (i32, String) {
    let (root, _) = scenarios_root(&race());
    let json = root.join("report.json");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rekcon"));
    cmd.args(["run", "t/s", "--scenarios"]).arg(&root).arg("--json").arg(&json);
    if let Some(m) = mutant {
        cmd.args(["--mutant", m]);
    }
    let out = cmd.output().expect("rekcon runs");
    let report = std::fs::read_to_string(&json).expect("the JSON report is written");
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn the_runner_sends_a_block_at_once_and_judges_it_by_the_checker() {
    let (code, report) = run_race(None);
    assert_eq!(code, 0, "the clean emulator's blocks are linearizable: {report}");

    let (code, report) = run_race(Some("race-associate-owner-check"));
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("an order of concurrent steps 5-6"), "{report}");
    // Nothing after the block is judged against a guess of the state.
    assert!(report.contains("so the state after them is unknown"), "{report}");
    assert!(!report.contains("Faces[0].UserId"), "no follow-on divergence: {report}");
}
