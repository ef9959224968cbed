use rekcon::api::{Operation, Request};
use rekcon::check;
use rekcon::model::{Model, ModelConfig};
use rekcon::serve::{InProcess, ServeConfig};
use serde_json::json;
#[test]
fn many() {
    let bytes = std::fs::read("scenarios/images/alice-many-50.png").unwrap();
    let b64 = rekcon::api::Blob::new(bytes).to_base64();
    let mut core = InProcess::new(&ServeConfig::default());
    let mut model = Model::new(ModelConfig {
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Default::default()
    });
    for i in 0..300 {
        let cid = format!("c{i}");
        for (op, body) in [
            (Operation::CreateCollection, json!({"CollectionId": cid})),
            (Operation::IndexFaces, json!({"CollectionId": cid, "Image": {"Bytes": b64}})),
            (Operation::DeleteCollection, json!({"CollectionId": cid})),
        ] {
            let r = Request::from_json(op, &body).unwrap();
            let allowed = model.allowed(&r);
            let raw = core.call(&op.target(), r.to_json().to_string().as_bytes());
            let w = check::wire(&raw, Some(op)).unwrap();
            assert!(model.observe(&r, &allowed, w.observed.as_ref().unwrap()).conforms());
        }
    }
}
