//! The emulator through aws-sdk-rekognition: the SDK must parse every answer of a full
//! users round trip, and the key fields must be what the contract says.

mod serve_support;

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::{Image, UserStatus};
use rekcon::image::{BoundingBox, ImageFace, fixture_png};
use serve_support::start_default;

fn client(url: &str) -> Client {
    serve_support::sdk_client(url)
}

fn image(person: &str) -> Image {
    let face = ImageFace {
        person: person.into(),
        bounding_box: BoundingBox { left: 0.1, top: 0.1, width: 0.3, height: 0.4 },
    };
    Image::builder().bytes(Blob::new(fixture_png(&[face]))).build()
}

#[tokio::test]
async fn sdk_round_trip_collection_faces_users() {
    let server = start_default().await;
    let rek = client(&server.url());

    let created = rek.create_collection().collection_id("sdk").send().await.expect("CreateCollection");
    assert_eq!(created.status_code(), Some(200));
    assert_eq!(created.collection_arn(), Some("aws:rekognition:us-east-1:123456789012:collection/sdk"));

    let indexed =
        rek.index_faces().collection_id("sdk").image(image("alice")).send().await.expect("IndexFaces");
    let records = indexed.face_records();
    assert_eq!(records.len(), 1);
    let face_id = records[0].face().and_then(|f| f.face_id()).expect("FaceId").to_string();
    assert!(rekcon::expect::is_lower_uuid(&face_id), "{face_id}");
    let second =
        rek.index_faces().collection_id("sdk").image(image("alice")).send().await.expect("IndexFaces");
    let second_id = second.face_records()[0].face().and_then(|f| f.face_id()).expect("FaceId").to_string();

    rek.create_user().collection_id("sdk").user_id("alice").send().await.expect("CreateUser");
    let listed = rek.list_users().collection_id("sdk").send().await.expect("ListUsers");
    assert_eq!(listed.users()[0].user_status(), Some(&UserStatus::Created));

    let assoc = rek
        .associate_faces()
        .collection_id("sdk")
        .user_id("alice")
        .face_ids(&face_id)
        .face_ids(&second_id)
        .send()
        .await
        .expect("AssociateFaces");
    let associated: Vec<_> = assoc.associated_faces().iter().filter_map(|f| f.face_id()).collect();
    assert_eq!(associated.len(), 2);
    assert!(associated.contains(&face_id.as_str()));
    assert!(assoc.unsuccessful_face_associations().is_empty());
    assert_eq!(assoc.user_status(), Some(&UserStatus::Updating));

    let search = rek.search_users().collection_id("sdk").face_id(&face_id).send().await.expect("SearchUsers");
    let top = &search.user_matches()[0];
    assert_eq!(top.user().and_then(|u| u.user_id()), Some("alice"));
    assert!(top.similarity().is_some_and(|s| s > 99.0));
    assert_eq!(search.searched_face().and_then(|f| f.face_id()), Some(face_id.as_str()));
    assert!(search.searched_user().is_none());

    let by_image = rek
        .search_users_by_image()
        .collection_id("sdk")
        .image(image("alice"))
        .send()
        .await
        .expect("SearchUsersByImage");
    assert_eq!(by_image.user_matches()[0].user().and_then(|u| u.user_id()), Some("alice"));

    let dis = rek
        .disassociate_faces()
        .collection_id("sdk")
        .user_id("alice")
        .face_ids(&face_id)
        .send()
        .await
        .expect("DisassociateFaces");
    assert_eq!(dis.disassociated_faces()[0].face_id(), Some(face_id.as_str()));
    assert_eq!(dis.user_status(), Some(&UserStatus::Updating));

    rek.delete_user().collection_id("sdk").user_id("alice").send().await.expect("DeleteUser");
    let faces = rek.list_faces().collection_id("sdk").send().await.expect("ListFaces");
    assert_eq!(faces.faces().len(), 2, "DeleteUser keeps the faces");
    assert!(faces.faces().iter().all(|f| f.user_id().is_none()));

    let described = rek.describe_collection().collection_id("sdk").send().await.expect("DescribeCollection");
    assert_eq!(described.face_count(), Some(2));
    assert_eq!(described.user_count(), Some(0));
    assert!(described.collection_arn().is_some_and(|a| a.starts_with("arn:aws:rekognition:")));
    assert!(described.creation_timestamp().is_some());

    let deleted = rek.delete_collection().collection_id("sdk").send().await.expect("DeleteCollection");
    assert_eq!(deleted.status_code(), Some(200));

    let missing = rek.describe_collection().collection_id("sdk").send().await.expect_err("gone");
    let service = missing.into_service_error();
    assert!(service.is_resource_not_found_exception(), "{service:?}");
    assert_eq!(
        aws_sdk_rekognition::error::ProvideErrorMetadata::message(&service),
        Some("Collection:sdk not found!")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn sdk_sees_typed_errors_and_request_ids() {
    let server = start_default().await;
    let rek = client(&server.url());
    rek.create_collection().collection_id("dup").send().await.expect("first");
    let err = rek.create_collection().collection_id("dup").send().await.expect_err("duplicate");
    let request_id = aws_sdk_rekognition::operation::RequestId::request_id(&err).map(str::to_string);
    let service = err.into_service_error();
    assert!(service.is_resource_already_exists_exception(), "{service:?}");
    assert!(request_id.is_some_and(|id| uuid::Uuid::parse_str(&id).is_ok()));
    let err = rek.create_user().collection_id("nope").user_id("u").send().await.expect_err("no collection");
    assert!(err.into_service_error().is_resource_not_found_exception());
}
