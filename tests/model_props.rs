//! Property tests of the reference model: random call sequences, valid and invalid, run
//! the way the built-in emulator runs them (allowed → realize → observe), under several
//! chooser strategies.
//!
//! After every step:
//! - the realised outcome conforms to its own allowance (judge and realize agree);
//! - a call whose outcome is an error left the state exactly as it was;
//! - a face belongs to at most one user and a user holds at most the limit
//!   (`Model::invariant_violations`);
//! - DescribeCollection's FaceCount and UserCount equal what ListFaces and ListUsers list,
//!   following NextTokens, each item exactly once.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rekcon::api::{Blob, Operation, Request};
use rekcon::expect::{Choice, Chooser, Observed};
use rekcon::image::{BoundingBox, ImageFace, fixture_png};
use rekcon::model::{Model, ModelConfig};
use serde_json::{Value, json};

const COLLECTIONS: [&str; 2] = ["c0", "c1"];
const USERS: [&str; 3] = ["u0", "u1", "u2"];
const PEOPLE: [&str; 4] = ["alice", "bob", "alice~twin", "carol"];
const TOKENS: [&str; 3] = ["t0", "t1", "t2"];
const UNKNOWN_FACES: [&str; 2] =
    ["ffffffff-ffff-4fff-8fff-ffffffffffff", "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"];
const THRESHOLDS: [Option<f64>; 8] =
    [None, Some(0.0), Some(50.0), Some(75.0), Some(78.0), Some(80.0), Some(95.0), Some(100.0)];

/// How the emulator decides what the contract leaves open.
#[derive(Debug, Clone, Copy)]
enum Mode {
    First,
    Last,
    Random,
}

struct Decider {
    mode: Mode,
    rng: ChaCha8Rng,
    /// Where numbers sit between their sample and a bound, fixed for one call so that
    /// numbers keep their order (IndexFaces reports the largest face first).
    lean: f64,
    next: u64,
}

impl Decider {
    fn new(mode: Mode, seed: u64) -> Decider {
        Decider { mode, rng: ChaCha8Rng::seed_from_u64(seed), lean: 0.0, next: 0 }
    }

    fn new_call(&mut self) {
        if let Mode::Random = self.mode {
            self.lean = self.rng.random_range(-1.0..=1.0);
        }
    }
}

impl Chooser for Decider {
    fn pick(&mut self, _: &Choice, options: usize) -> usize {
        match self.mode {
            Mode::First => 0,
            Mode::Last => options.saturating_sub(1),
            Mode::Random => self.rng.random_range(0..options.max(1)),
        }
    }
    fn number(&mut self, min: f64, max: f64, sample: f64) -> f64 {
        match self.mode {
            Mode::First => sample,
            Mode::Last => max,
            Mode::Random if self.lean >= 0.0 => sample + self.lean * (max - sample),
            Mode::Random => sample + self.lean * (sample - min),
        }
    }
    fn fresh_id(&mut self) -> String {
        self.next += 1;
        format!("f0000000-0000-4000-8000-{:012x}", self.next)
    }
    fn page_token(&mut self) -> String {
        self.next += 1;
        format!("page-{}", self.next)
    }
}

/// A FaceId chosen at run time: one of the known faces, or an unknown one.
#[derive(Debug, Clone, Copy)]
struct FaceRef(u8);

/// A NextToken: none, the last one the listing issued, or a made-up one.
#[derive(Debug, Clone, Copy)]
enum PageToken {
    None,
    Last,
    MadeUp,
}

#[derive(Debug, Clone)]
enum Step {
    CreateCollection(usize),
    DeleteCollection(usize),
    DescribeCollection(usize),
    ListCollections {
        max: Option<i64>,
        token: PageToken,
    },
    IndexFaces {
        c: usize,
        people: Vec<usize>,
        external: bool,
        max_faces: Option<i64>,
        not_an_image: bool,
    },
    ListFaces {
        c: usize,
        user: Option<usize>,
        faces: Option<Vec<FaceRef>>,
        max: Option<i64>,
        token: PageToken,
    },
    DeleteFaces {
        c: usize,
        faces: Vec<FaceRef>,
    },
    SearchFaces {
        c: usize,
        face: FaceRef,
        threshold: usize,
        max: Option<i64>,
    },
    SearchFacesByImage {
        c: usize,
        people: Vec<usize>,
        threshold: usize,
    },
    CreateUser {
        c: usize,
        u: usize,
        token: Option<usize>,
    },
    DeleteUser {
        c: usize,
        u: usize,
        token: Option<usize>,
    },
    ListUsers {
        c: usize,
        max: Option<i64>,
        token: PageToken,
    },
    AssociateFaces {
        c: usize,
        u: usize,
        faces: Vec<FaceRef>,
        threshold: usize,
        token: Option<usize>,
    },
    DisassociateFaces {
        c: usize,
        u: usize,
        faces: Vec<FaceRef>,
        token: Option<usize>,
    },
    SearchUsers {
        c: usize,
        user: Option<usize>,
        face: Option<FaceRef>,
        threshold: usize,
        max: Option<i64>,
    },
    SearchUsersByImage {
        c: usize,
        people: Vec<usize>,
        threshold: usize,
        max: Option<i64>,
    },
    Invalid(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let c = prop_oneof![3 => Just(0usize), 1 => Just(1usize)];
    let u = 0..USERS.len();
    let face = any::<u8>().prop_map(FaceRef);
    let faces = prop::collection::vec(face.clone(), 1..5);
    let people = prop::collection::vec(0..PEOPLE.len(), 0..4);
    let threshold = 0..THRESHOLDS.len();
    let token = prop::option::weighted(0.4, 0..TOKENS.len());
    let page =
        prop_oneof![3 => Just(PageToken::None), 2 => Just(PageToken::Last), 1 => Just(PageToken::MadeUp)];
    let small = prop::option::of(1..4i64);
    prop_oneof![
        3 => c.clone().prop_map(Step::CreateCollection),
        1 => c.clone().prop_map(Step::DeleteCollection),
        1 => c.clone().prop_map(Step::DescribeCollection),
        1 => (small.clone(), page.clone()).prop_map(|(max, token)| Step::ListCollections { max, token }),
        5 => (c.clone(), people.clone(), any::<bool>(), prop::option::weighted(0.2, 1..3i64), prop::bool::weighted(0.05))
            .prop_map(|(c, people, external, max_faces, not_an_image)| Step::IndexFaces { c, people, external, max_faces, not_an_image }),
        2 => (c.clone(), prop::option::weighted(0.3, u.clone()), prop::option::weighted(0.3, faces.clone()), small.clone(), page.clone())
            .prop_map(|(c, user, faces, max, token)| Step::ListFaces { c, user, faces, max, token }),
        2 => (c.clone(), faces.clone()).prop_map(|(c, faces)| Step::DeleteFaces { c, faces }),
        1 => (c.clone(), face.clone(), threshold.clone(), small.clone())
            .prop_map(|(c, face, threshold, max)| Step::SearchFaces { c, face, threshold, max }),
        1 => (c.clone(), people.clone(), threshold.clone())
            .prop_map(|(c, people, threshold)| Step::SearchFacesByImage { c, people, threshold }),
        4 => (c.clone(), u.clone(), token.clone()).prop_map(|(c, u, token)| Step::CreateUser { c, u, token }),
        1 => (c.clone(), u.clone(), token.clone()).prop_map(|(c, u, token)| Step::DeleteUser { c, u, token }),
        2 => (c.clone(), small.clone(), page).prop_map(|(c, max, token)| Step::ListUsers { c, max, token }),
        8 => (c.clone(), u.clone(), faces.clone(), threshold.clone(), token.clone())
            .prop_map(|(c, u, faces, threshold, token)| Step::AssociateFaces { c, u, faces, threshold, token }),
        3 => (c.clone(), u.clone(), faces, token).prop_map(|(c, u, faces, token)| Step::DisassociateFaces { c, u, faces, token }),
        2 => (c.clone(), u.clone(), face, 0..10u8, threshold.clone(), small.clone())
            .prop_map(|(c, u, face, shape, threshold, max)| {
                // Mostly exactly one of UserId and FaceId; sometimes both or neither.
                let (user, face) = match shape {
                    0..=3 => (Some(u), None),
                    4..=7 => (None, Some(face)),
                    8 => (Some(u), Some(face)),
                    _ => (None, None),
                };
                Step::SearchUsers { c, user, face, threshold, max }
            }),
        1 => (c, people, threshold, small)
            .prop_map(|(c, people, threshold, max)| Step::SearchUsersByImage { c, people, threshold, max }),
        2 => (0..INVALID.len()).prop_map(Step::Invalid),
    ]
}

/// Requests that break a syntactic rule (§2).
const INVALID: [(&str, &str); 9] = [
    ("CreateCollection", r#"{"CollectionId": "bad id"}"#),
    ("CreateCollection", r#"{"CollectionId": "a:b"}"#),
    ("AssociateFaces", r#"{"CollectionId": "c0", "UserId": "u0", "FaceIds": []}"#),
    ("SearchUsers", r#"{"CollectionId": "c0", "UserId": "u0", "UserMatchThreshold": 101}"#),
    ("ListUsers", r#"{"CollectionId": "c0", "MaxResults": 0}"#),
    ("DeleteFaces", r#"{"CollectionId": "c0", "FaceIds": ["FFFFFFFF-FFFF-4FFF-8FFF-FFFFFFFFFFFF"]}"#),
    ("CreateUser", r#"{"CollectionId": "c0", "UserId": "u0", "ClientRequestToken": "has space"}"#),
    ("IndexFaces", r#"{"CollectionId": "c0", "Image": {}}"#),
    ("SearchUsers", r#"{"CollectionId": "c0"}"#),
];

fn image(people: &[usize]) -> Value {
    let faces: Vec<ImageFace> = people
        .iter()
        .enumerate()
        .map(|(i, p)| ImageFace {
            person: PEOPLE[*p].to_string(),
            bounding_box: BoundingBox {
                left: 0.1 * i as f64,
                top: 0.1,
                width: 0.3 - 0.05 * i as f64,
                height: 0.3,
            },
        })
        .collect();
    json!({"Bytes": Blob::new(fixture_png(&faces)).to_base64()})
}

/// The run: the model, the chooser and what the sequence has seen.
struct Run {
    m: Model,
    ch: Decider,
    last_tokens: std::collections::BTreeMap<&'static str, String>,
}

impl Run {
    fn face(&self, r: FaceRef) -> String {
        let mut known: Vec<String> =
            self.m.collections().values().flat_map(|c| c.faces.keys().cloned()).collect();
        known.sort();
        let i = usize::from(r.0) % (known.len() + UNKNOWN_FACES.len());
        known.get(i).cloned().unwrap_or_else(|| UNKNOWN_FACES[i - known.len()].to_string())
    }

    fn faces(&self, refs: &[FaceRef]) -> Vec<String> {
        refs.iter().map(|r| self.face(*r)).collect()
    }

    fn page(&self, op: &'static str, token: PageToken, body: &mut Value) {
        match token {
            PageToken::None => {}
            PageToken::Last => {
                if let Some(t) = self.last_tokens.get(op) {
                    body["NextToken"] = json!(t);
                }
            }
            PageToken::MadeUp => body["NextToken"] = json!("made-up"),
        }
    }

    fn request(&self, step: &Step) -> (Operation, Value) {
        let t = |i: Option<usize>, body: &mut Value| {
            if let Some(i) = i {
                body["ClientRequestToken"] = json!(TOKENS[i]);
            }
        };
        let threshold = |i: usize, name: &str, body: &mut Value| {
            if let Some(x) = THRESHOLDS[i] {
                body[name] = json!(x);
            }
        };
        let max = |m: Option<i64>, name: &str, body: &mut Value| {
            if let Some(m) = m {
                body[name] = json!(m);
            }
        };
        match step {
            Step::CreateCollection(c) => {
                (Operation::CreateCollection, json!({"CollectionId": COLLECTIONS[*c]}))
            }
            Step::DeleteCollection(c) => {
                (Operation::DeleteCollection, json!({"CollectionId": COLLECTIONS[*c]}))
            }
            Step::DescribeCollection(c) => {
                (Operation::DescribeCollection, json!({"CollectionId": COLLECTIONS[*c]}))
            }
            Step::ListCollections { max: m, token } => {
                let mut b = json!({});
                max(*m, "MaxResults", &mut b);
                self.page("ListCollections", *token, &mut b);
                (Operation::ListCollections, b)
            }
            Step::IndexFaces { c, people, external, max_faces, not_an_image } => {
                let img = if *not_an_image {
                    json!({"Bytes": Blob::new(&b"GIF89a"[..]).to_base64()})
                } else {
                    image(people)
                };
                let mut b = json!({"CollectionId": COLLECTIONS[*c], "Image": img});
                if *external {
                    b["ExternalImageId"] = json!("img:1");
                }
                max(*max_faces, "MaxFaces", &mut b);
                (Operation::IndexFaces, b)
            }
            Step::ListFaces { c, user, faces, max: m, token } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c]});
                if let Some(u) = user {
                    b["UserId"] = json!(USERS[*u]);
                }
                if let Some(f) = faces {
                    b["FaceIds"] = json!(self.faces(f));
                }
                max(*m, "MaxResults", &mut b);
                self.page("ListFaces", *token, &mut b);
                (Operation::ListFaces, b)
            }
            Step::DeleteFaces { c, faces } => (
                Operation::DeleteFaces,
                json!({"CollectionId": COLLECTIONS[*c], "FaceIds": self.faces(faces)}),
            ),
            Step::SearchFaces { c, face, threshold: th, max: m } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c], "FaceId": self.face(*face)});
                threshold(*th, "FaceMatchThreshold", &mut b);
                max(*m, "MaxFaces", &mut b);
                (Operation::SearchFaces, b)
            }
            Step::SearchFacesByImage { c, people, threshold: th } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c], "Image": image(people)});
                threshold(*th, "FaceMatchThreshold", &mut b);
                (Operation::SearchFacesByImage, b)
            }
            Step::CreateUser { c, u, token } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c], "UserId": USERS[*u]});
                t(*token, &mut b);
                (Operation::CreateUser, b)
            }
            Step::DeleteUser { c, u, token } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c], "UserId": USERS[*u]});
                t(*token, &mut b);
                (Operation::DeleteUser, b)
            }
            Step::ListUsers { c, max: m, token } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c]});
                max(*m, "MaxResults", &mut b);
                self.page("ListUsers", *token, &mut b);
                (Operation::ListUsers, b)
            }
            Step::AssociateFaces { c, u, faces, threshold: th, token } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c], "UserId": USERS[*u], "FaceIds": self.faces(faces)});
                threshold(*th, "UserMatchThreshold", &mut b);
                t(*token, &mut b);
                (Operation::AssociateFaces, b)
            }
            Step::DisassociateFaces { c, u, faces, token } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c], "UserId": USERS[*u], "FaceIds": self.faces(faces)});
                t(*token, &mut b);
                (Operation::DisassociateFaces, b)
            }
            Step::SearchUsers { c, user, face, threshold: th, max: m } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c]});
                if let Some(u) = user {
                    b["UserId"] = json!(USERS[*u]);
                }
                if let Some(f) = face {
                    b["FaceId"] = json!(self.face(*f));
                }
                threshold(*th, "UserMatchThreshold", &mut b);
                max(*m, "MaxUsers", &mut b);
                (Operation::SearchUsers, b)
            }
            Step::SearchUsersByImage { c, people, threshold: th, max: m } => {
                let mut b = json!({"CollectionId": COLLECTIONS[*c], "Image": image(people)});
                threshold(*th, "UserMatchThreshold", &mut b);
                max(*m, "MaxUsers", &mut b);
                (Operation::SearchUsersByImage, b)
            }
            Step::Invalid(i) => {
                let (op, body) = INVALID[*i];
                (Operation::from_name(op).unwrap(), serde_json::from_str(body).unwrap())
            }
        }
    }

    /// One call as the emulator makes it; fails if the realisation fails its own judgement.
    fn call(&mut self, op: Operation, body: &Value) -> Result<Observed, TestCaseError> {
        let request =
            Request::from_json(op, body).map_err(|e| TestCaseError::fail(format!("{op} decodes: {e}")))?;
        self.ch.new_call();
        let allowed = self.m.allowed(&request);
        let observed = allowed.realize(&mut self.ch);
        let judgement = self.m.observe(&request, &allowed, &observed);
        prop_assert!(
            judgement.conforms(),
            "{op} {body}: realised {observed:?} fails its own allowance: {:?}",
            judgement.mismatches
        );
        Ok(observed)
    }

    fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        let (op, body) = self.request(step);
        let before = format!("{:?}", self.m);
        let observed = self.call(op, &body)?;
        match &observed {
            Observed::Error(e) => {
                prop_assert_eq!(
                    format!("{:?}", self.m),
                    before,
                    "{} {} failed with {} but changed the state",
                    op,
                    body,
                    e
                )
            }
            Observed::Success(b) => {
                if let Some(t) = b.get("NextToken").and_then(Value::as_str) {
                    self.last_tokens.insert(op.name(), t.to_string());
                }
            }
        }
        self.check_invariants()
    }

    fn check_invariants(&self) -> Result<(), TestCaseError> {
        let violations = self.m.invariant_violations();
        prop_assert!(violations.is_empty(), "{violations:?}");
        let limit = self.m.config().faces_per_user;
        for (cid, c) in self.m.collections() {
            for (uid, u) in &c.users {
                prop_assert!(u.faces.len() <= limit, "{cid}/{uid} holds {} faces", u.faces.len());
            }
        }
        // Reads on a copy, so the checks do not steer the sequence.
        let mut probe = Run {
            m: self.m.clone(),
            ch: Decider::new(self.ch.mode, self.ch.next ^ 0x5eed),
            last_tokens: Default::default(),
        };
        probe.ch.next = self.ch.next + 1_000_000;
        let ids: Vec<String> = self.m.collections().keys().cloned().collect();
        for cid in ids {
            let described = match probe.call(Operation::DescribeCollection, &json!({"CollectionId": cid}))? {
                Observed::Success(b) => b,
                Observed::Error(e) => {
                    return Err(TestCaseError::fail(format!("DescribeCollection {cid}: {e}")));
                }
            };
            let faces = probe.list_all(Operation::ListFaces, &cid, "Faces", "FaceId", 2)?;
            let users = probe.list_all(Operation::ListUsers, &cid, "Users", "UserId", 1)?;
            prop_assert_eq!(described["FaceCount"].as_u64(), Some(faces as u64), "FaceCount of {}", cid);
            prop_assert_eq!(described["UserCount"].as_u64(), Some(users as u64), "UserCount of {}", cid);
        }
        Ok(())
    }

    /// Follows NextTokens to the end; how many distinct items were listed (each exactly once).
    fn list_all(
        &mut self,
        op: Operation,
        cid: &str,
        items: &str,
        key: &str,
        page: i64,
    ) -> Result<usize, TestCaseError> {
        let mut seen = std::collections::BTreeSet::new();
        let mut body = json!({"CollectionId": cid, "MaxResults": page});
        for _ in 0..1000 {
            let b = match self.call(op, &body)? {
                Observed::Success(b) => b,
                Observed::Error(e) => return Err(TestCaseError::fail(format!("{op} {cid}: {e}"))),
            };
            for item in b[items].as_array().into_iter().flatten() {
                let k = item[key].as_str().unwrap_or_default().to_string();
                prop_assert!(seen.insert(k.clone()), "{} listed {} twice", op, k);
            }
            match b.get("NextToken").and_then(Value::as_str) {
                Some(t) => body["NextToken"] = json!(t),
                None => return Ok(seen.len()),
            }
        }
        Err(TestCaseError::fail(format!("{op} {cid} never ends")))
    }
}

fn run(steps: &[Step], mode: Mode, seed: u64, faces_per_user: usize) -> Result<(), TestCaseError> {
    let config = ModelConfig { faces_per_user, ..ModelConfig::default() };
    let mut run =
        Run { m: Model::new(config), ch: Decider::new(mode, seed), last_tokens: Default::default() };
    for step in steps {
        run.step(step)?;
    }
    Ok(())
}

/// Every sequence starts with both collections, two users and an image's faces, so that
/// most calls reach the state.
fn sequence() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 5..30).prop_map(|steps| {
        let prefix = [
            Step::CreateCollection(0),
            Step::CreateCollection(1),
            Step::CreateUser { c: 0, u: 0, token: None },
            Step::CreateUser { c: 0, u: 1, token: None },
            Step::IndexFaces {
                c: 0,
                people: vec![0, 1, 2],
                external: false,
                max_faces: None,
                not_an_image: false,
            },
        ];
        prefix.into_iter().chain(steps).collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    /// Always the model's preferred option.
    #[test]
    fn first_option_sequences_keep_invariants(steps in sequence(), small in any::<bool>()) {
        run(&steps, Mode::First, 0, if small { 3 } else { 100 })?;
    }

    /// Always the last option (the other side of every unsettled or near-threshold choice).
    #[test]
    fn last_option_sequences_keep_invariants(steps in sequence(), small in any::<bool>()) {
        run(&steps, Mode::Last, 0, if small { 3 } else { 100 })?;
    }

    /// Random choices and numbers.
    #[test]
    fn random_sequences_keep_invariants(steps in sequence(), seed in any::<u64>(), small in any::<bool>()) {
        run(&steps, Mode::Random, seed, if small { 3 } else { 100 })?;
    }
}
