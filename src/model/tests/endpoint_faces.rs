//! `--faces endpoint` and the canned detector: the model follows the faces the endpoint
//! reports, judges identity-dependent outcomes only structurally, and says so.

use super::*;
use crate::image::CANNED_BOX;

fn endpoint() -> Env {
    Env::with_config(ModelConfig { faces: FaceSource::Endpoint, ..ModelConfig::default() })
}

const F1: &str = "11111111-1111-4111-8111-111111111111";
const F2: &str = "22222222-2222-4222-8222-222222222222";
const F3: &str = "33333333-3333-4333-8333-333333333333";
const IMG: &str = "44444444-4444-4444-8444-444444444444";
const IMG2: &str = "55555555-5555-4555-8555-555555555555";

fn record(face: &str, image: &str, width: f64) -> Value {
    let bbox = json!({"Width": width, "Height": width, "Left": 0.1, "Top": 0.1});
    json!({
        "Face": {"FaceId": face, "BoundingBox": bbox, "ImageId": image, "Confidence": 99.5},
        "FaceDetail": {"BoundingBox": bbox, "Confidence": 99.5}
    })
}

fn indexed(records: Vec<Value>) -> Observed {
    Observed::Success(json!({"FaceRecords": records, "FaceModelVersion": "7.0", "UnindexedFaces": []}))
}

#[test]
fn index_faces_takes_any_count_up_to_max_faces_with_the_usual_structure() {
    let mut env = endpoint();
    env.collection("c");
    let req = json!({"CollectionId": "c", "Image": image(&["alice", "bob", "carol"]), "MaxFaces": 2});
    assert!(env.allowed(Operation::IndexFaces, req.clone()).needs_identity());
    // Fewer faces than the marker declares: the endpoint's detector decides (§6.2).
    assert!(env.judge(Operation::IndexFaces, req.clone(), indexed(vec![record(F1, IMG, 0.3)])).conforms());
    assert!(env.judge(Operation::IndexFaces, req.clone(), indexed(vec![])).conforms());
    // More than MaxFaces, records of different images, or a repeated FaceId are still wrong.
    let three = vec![record(F1, IMG, 0.3), record(F2, IMG, 0.2), record(F3, IMG, 0.1)];
    let paths = |outcome| -> Vec<String> {
        env.judge(Operation::IndexFaces, req.clone(), outcome)
            .mismatches
            .into_iter()
            .map(|m| m.path)
            .collect()
    };
    assert_eq!(paths(indexed(three)), ["FaceRecords"]);
    assert_eq!(
        paths(indexed(vec![record(F1, IMG, 0.3), record(F2, IMG2, 0.2)])),
        ["FaceRecords[1].Face.ImageId"]
    );
    assert_eq!(
        paths(indexed(vec![record(F1, IMG, 0.3), record(F1, IMG, 0.2)])),
        ["FaceRecords[1].Face.FaceId"]
    );
    // Largest first still holds (cross-check).
    assert_eq!(
        paths(indexed(vec![record(F1, IMG, 0.1), record(F2, IMG, 0.3)])),
        ["FaceRecords[1].Face.BoundingBox"]
    );
    // The model follows what came: one face, of nobody it knows, and a collection whose
    // face count now differs from the fixtures'.
    assert!(env.observe(Operation::IndexFaces, req, indexed(vec![record(F1, IMG, 0.3)])).conforms());
    let c = &env.m.collections()["c"];
    assert_eq!(c.faces.len(), 1);
    assert_eq!(c.faces[F1].person, similarity::UNKNOWN_PERSON);
    assert!(c.detected_apart);
    assert!(env.allowed(Operation::DescribeCollection, json!({"CollectionId": "c"})).needs_identity());
    // Identity-free answers are still exact: the count the endpoint itself reported.
    let described = json!({"FaceCount": 2, "FaceModelVersion": "7.0", "UserCount": 0,
        "CollectionARN": "arn:aws:rekognition:us-east-1:123456789012:collection/c", "CreationTimestamp": 1.7e9});
    assert_eq!(
        env.paths(Operation::DescribeCollection, json!({"CollectionId": "c"}), described),
        ["FaceCount"]
    );
}

#[test]
fn identity_dependent_outcomes_are_judged_structurally_and_marked() {
    let mut env = endpoint();
    env.collection("c");
    let f1 = env.index("c", &["alice"]);
    let f2 = env.index("c", &["alice"]);
    assert_eq!((f1.len(), f2.len()), (1, 1), "the realised endpoint answer holds one face");
    env.user("c", "u");
    // A user without faces takes the first one whatever the similarity: no identity needed.
    let first = json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f1[0]]});
    assert!(!env.allowed(Operation::AssociateFaces, first.clone()).needs_identity());
    env.associate("c", "u", &[&f1[0]]);
    let second = json!({"CollectionId": "c", "UserId": "u", "FaceIds": [f2[0]]});
    assert!(env.allowed(Operation::AssociateFaces, second.clone()).needs_identity());
    let joined = json!({"AssociatedFaces": [{"FaceId": f2[0]}], "UnsuccessfulFaceAssociations": [], "UserStatus": "UPDATING"});
    assert!(env.paths(Operation::AssociateFaces, second.clone(), joined).is_empty());
    let low = |confidence: f64| {
        json!({"UnsuccessfulFaceAssociations": [{"FaceId": f2[0], "Confidence": confidence, "Reasons": ["LOW_MATCH_CONFIDENCE"]}],
               "UserStatus": "ACTIVE"})
    };
    assert_eq!(env.paths(Operation::AssociateFaces, second.clone(), low(12.5)), Vec::<String>::new());
    // A refusal must still score below the threshold (75 by default).
    assert_eq!(
        env.paths(Operation::AssociateFaces, second, low(80.0)),
        ["UnsuccessfulFaceAssociations[0].Confidence"]
    );
    // SearchFaces: any similarity, but at or above the threshold, sorted, and within MaxFaces.
    let search = json!({"CollectionId": "c", "FaceId": f1[0], "FaceMatchThreshold": 60, "MaxFaces": 1});
    assert!(env.allowed(Operation::SearchFaces, search.clone()).needs_identity());
    let stored = env.m.collections()["c"].faces[&f2[0]].clone();
    let face = |similarity: f64| {
        json!({"Similarity": similarity, "Face": {"FaceId": f2[0], "BoundingBox": {"Width": stored.bounding_box.width,
            "Height": stored.bounding_box.height, "Left": stored.bounding_box.left, "Top": stored.bounding_box.top},
            "ImageId": stored.image_id, "Confidence": stored.confidence, "IndexFacesModelVersion": "7.0"}})
    };
    let answer = |matches: Vec<Value>| json!({"SearchedFaceId": f1[0], "FaceMatches": matches, "FaceModelVersion": "7.0"});
    assert!(env.paths(Operation::SearchFaces, search.clone(), answer(vec![face(61.0)])).is_empty());
    assert!(env.paths(Operation::SearchFaces, search.clone(), answer(vec![])).is_empty());
    assert_eq!(
        env.paths(Operation::SearchFaces, search.clone(), answer(vec![face(59.0)])),
        ["FaceMatches[0].Similarity"]
    );
    assert_eq!(
        env.paths(Operation::SearchFaces, search, answer(vec![face(101.0)])),
        ["FaceMatches[0].Similarity"]
    );
}

#[test]
fn by_image_searches_accept_any_largest_face_or_none() {
    let mut env = endpoint();
    env.collection("c");
    let req = json!({"CollectionId": "c", "Image": image(&[])});
    let allowed = env.allowed(Operation::SearchFacesByImage, req.clone());
    assert!(allowed.needs_identity());
    assert!(allowed.errors.contains(&ErrorCode::InvalidParameterException));
    let found = json!({"SearchedFaceBoundingBox": {"Width": 0.9, "Height": 0.9, "Left": 0.0, "Top": 0.0},
        "SearchedFaceConfidence": 99.0, "FaceMatches": [], "FaceModelVersion": "7.0"});
    assert!(env.paths(Operation::SearchFacesByImage, req.clone(), found).is_empty());
    let users = json!({"CollectionId": "c", "Image": image(&["alice"])});
    let none = json!({"UserMatches": [], "FaceModelVersion": "7.0"});
    assert!(env.paths(Operation::SearchUsersByImage, users.clone(), none).is_empty());
    let one = json!({"UserMatches": [], "FaceModelVersion": "7.0",
        "SearchedFace": {"FaceDetail": {"BoundingBox": {"Width": 0.2, "Height": 0.2, "Left": 0.5, "Top": 0.5}}},
        "UnsearchedFaces": [{"FaceDetails": {"BoundingBox": {"Width": 0.1, "Height": 0.1, "Left": 0.0, "Top": 0.0}}, "Reasons": ["FACE_NOT_LARGEST"]}]});
    assert!(env.paths(Operation::SearchUsersByImage, users.clone(), one).is_empty());
    // A user named that does not exist is still wrong.
    let ghost = json!({"UserMatches": [{"Similarity": 99.0, "User": {"UserId": "ghost", "UserStatus": "ACTIVE"}}],
        "FaceModelVersion": "7.0", "SearchedFace": {"FaceDetail": {"BoundingBox": {"Width": 0.2, "Height": 0.2, "Left": 0.5, "Top": 0.5}}},
        "UnsearchedFaces": []});
    assert!(!env.judge(Operation::SearchUsersByImage, users, Observed::Success(ghost)).conforms());
}

#[test]
fn the_canned_detector_finds_one_fixed_face_and_scores_by_hash() {
    let mut env = Env::with_config(ModelConfig { faces: FaceSource::Canned, ..ModelConfig::default() });
    env.collection("c");
    let a = env.index("c", &["alice", "bob"]);
    let b = env.index("c", &["alice"]);
    assert_eq!((a.len(), b.len()), (1, 1));
    let face = &env.m.collections()["c"].faces[&a[0]];
    assert_eq!(face.bounding_box, CANNED_BOX);
    // Exact scores: the emulator's model never needs to follow an either-branch.
    let search = json!({"CollectionId": "c", "FaceId": a[0], "FaceMatchThreshold": 50});
    let allowed = env.allowed(Operation::SearchFaces, search.clone());
    assert!(!allowed.needs_identity());
    let score = similarity::between(&face.person, &env.m.collections()["c"].faces[&b[0]].person).min;
    let got = env.ok(Operation::SearchFaces, search);
    let matches = got["FaceMatches"].as_array().expect("FaceMatches");
    if score >= 50.0 {
        assert_eq!(matches.len(), 1, "{got}");
        assert_eq!(matches[0]["Similarity"].as_f64(), Some(score));
    } else {
        assert!(matches.is_empty(), "{got}");
    }
}
