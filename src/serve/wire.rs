//! The `awsJson1_1` protocol on the server side: reading the operation and body of a
//! call, and rendering success and error answers exactly as the service does (contract §1).

use serde_json::{Map, Value, json};

use super::mutant::{ErrorStyle, WireStyle, nulls_for_absent};
use crate::api::{ApiError, ErrorCode, Operation, Request};
use crate::model::Model;

/// The protocol's Content-Type, for requests and responses.
pub(super) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The `X-Amz-Target` prefix of every operation.
const TARGET_PREFIX: &str = "RekognitionService.";
/// Largest request body read; larger ones get 413 (images are at most 5 MiB decoded).
pub(super) const MAX_BODY: usize = 8 * 1024 * 1024;

/// One answer, ready for the wire.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reply {
    /// HTTP status.
    pub(super) status: u16,
    /// Content-Type header.
    pub(super) content_type: &'static str,
    /// The body bytes.
    pub(super) body: Vec<u8>,
    /// The error type answered, for the log.
    pub(super) error: Option<String>,
    /// Whether to close the connection after answering.
    pub(super) close: bool,
}

/// An error with its default message.
pub(super) fn api_error(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError { code, message: Some(message.into()) }
}

/// The operation named by an `X-Amz-Target` header.
pub(super) fn operation(target: Option<&str>) -> Result<Operation, ApiError> {
    let unknown =
        || api_error(ErrorCode::UnknownOperationException, "The requested operation is not recognized.");
    let name = target.and_then(|t| t.strip_prefix(TARGET_PREFIX)).ok_or_else(unknown)?;
    Operation::from_name(name).ok_or_else(unknown)
}

/// Decodes a request body; anything that is not a JSON object of the right member types
/// is a SerializationException. An empty body reads as `{}`.
pub(super) fn decode(op: Operation, body: &[u8]) -> Result<Request, ApiError> {
    let serialization = |detail: String| api_error(ErrorCode::SerializationException, detail);
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| serialization(format!("Cannot parse the request body: {e}")))?
    };
    Request::from_json(op, &value).map_err(|e| serialization(e.message))
}

/// Renders a success body; members the model left absent stay absent.
pub(super) fn success(op: Operation, body: Value, style: WireStyle) -> Reply {
    let mut body = match body {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if style.null_for_absent {
        nulls_for_absent(op.response_members(), &mut body);
    }
    Reply {
        status: 200,
        content_type: style.content_type,
        body: Value::Object(body).to_string().into_bytes(),
        error: None,
        close: false,
    }
}

/// Renders an error as `{"__type", "Code", "Message"}` with the code's HTTP status.
pub(super) fn error(err: &ApiError, style: WireStyle) -> Reply {
    let code = err.code.as_str();
    let message = err.message.clone().unwrap_or_else(|| default_message(&err.code).to_string());
    let (status, body) = match style.error {
        // The front end's refusals (contract §1.1, §8, observed): 400, `__type` and a
        // lower-case `message`, no `Code`.
        ErrorStyle::Standard if front_end(&err.code) => {
            (err.code.http_status(), json!({"__type": code, "message": message}))
        }
        ErrorStyle::Standard => {
            (err.code.http_status(), json!({"__type": code, "Code": code, "Message": message}))
        }
        ErrorStyle::LowercaseMessage => {
            (err.code.http_status(), json!({"__type": code, "Code": code, "message": message}))
        }
        ErrorStyle::MessageOnly => (err.code.http_status(), json!({"Message": message})),
        ErrorStyle::Empty200 => (200, Value::Null),
    };
    let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    Reply { status, content_type: style.content_type, body, error: Some(code.to_string()), close: false }
}

/// Whether AWS's front end (signature and credential checks), not Rekognition, answers `code`.
fn front_end(code: &ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::InvalidSignatureException
            | ErrorCode::UnrecognizedClientException
            | ErrorCode::MissingAuthenticationTokenException
            | ErrorCode::IncompleteSignatureException
    )
}

/// The message AWS sends with `code` when nothing more specific is known (contract §8).
fn default_message(code: &ErrorCode) -> &'static str {
    match code {
        ErrorCode::AccessDeniedException => "You are not authorized to perform this action.",
        ErrorCode::ConflictException => {
            "A User with the same Id already exists within the collection, or the update or deletion of the User caused an inconsistent state."
        }
        ErrorCode::IdempotentParameterMismatchException => {
            "The ClientRequestToken you have supplied is already in use."
        }
        ErrorCode::ImageTooLargeException => "Image size is too large.",
        ErrorCode::InternalServerError => "Internal server error",
        ErrorCode::InvalidImageFormatException => "Request has invalid image format.",
        ErrorCode::InvalidPaginationTokenException => "Invalid Token",
        ErrorCode::InvalidParameterException => "Request has invalid parameters.",
        ErrorCode::InvalidS3ObjectException => "Request has invalid S3 object.",
        ErrorCode::ProvisionedThroughputExceededException => "Provisioned Rate exceeded.",
        ErrorCode::ResourceAlreadyExistsException => "The resource already exists.",
        ErrorCode::ResourceNotFoundException => "The requested resource does not exist.",
        ErrorCode::ServiceQuotaExceededException => "The request exceeds a service quota.",
        ErrorCode::ThrottlingException => "Slow down; sudden increase in rate of requests.",
        ErrorCode::ValidationException => "1 validation error detected.",
        ErrorCode::SerializationException => "Cannot deserialize the request body.",
        ErrorCode::UnknownOperationException => "The requested operation is not recognized.",
        ErrorCode::UnrecognizedClientException => "The security token included in the request is invalid.",
        ErrorCode::InvalidSignatureException => {
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        }
        ErrorCode::MissingAuthenticationTokenException => "Missing Authentication Token",
        ErrorCode::IncompleteSignatureException => "The request signature does not conform to AWS standards.",
        ErrorCode::RequestEntityTooLargeException => "Request size exceeded the maximum allowed.",
        ErrorCode::Other(_) => "Request failed.",
    }
}

/// The message for a modelled error, phrased as AWS does where it is documented (§8).
/// `model` is the state before the call.
pub(super) fn message(code: &ErrorCode, request: &Request, model: &Model) -> String {
    let collection = request.collection_id().unwrap_or_default();
    let exists = model.collections().contains_key(collection);
    let user = match request {
        Request::CreateUser(r) => r.user_id.as_deref(),
        Request::DeleteUser(r) => r.user_id.as_deref(),
        Request::AssociateFaces(r) => r.user_id.as_deref(),
        Request::DisassociateFaces(r) => r.user_id.as_deref(),
        Request::SearchUsers(r) => r.user_id.as_deref(),
        _ => None,
    };
    match code {
        ErrorCode::ResourceNotFoundException
            if !exists && matches!(request, Request::DescribeCollection(_)) =>
        {
            format!("Collection:{collection} not found!")
        }
        ErrorCode::ResourceNotFoundException if !exists && request.collection_id().is_some() => {
            format!("The collection id: {collection} does not exist")
        }
        ErrorCode::ResourceNotFoundException if user.is_some() => {
            format!("The user id: {} does not exist", user.unwrap_or_default())
        }
        ErrorCode::ResourceAlreadyExistsException => {
            format!("The collection id: {collection} already exists.")
        }
        ErrorCode::IdempotentParameterMismatchException => format!(
            "The ClientRequestToken: {} you have supplied is already in use.",
            request.client_request_token().unwrap_or_default()
        ),
        ErrorCode::InvalidParameterException if matches!(request, Request::SearchFaces(_)) && exists => {
            "faceId was not found in the collection.".into()
        }
        ErrorCode::InvalidParameterException if matches!(request, Request::SearchUsers(_)) && exists => {
            "Request has invalid parameters".into()
        }
        ErrorCode::ServiceQuotaExceededException if matches!(request, Request::AssociateFaces(_)) => {
            "The user has reached the maximum number of faces (100).".into()
        }
        other => default_message(other).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_need_the_service_prefix_and_an_exact_name() {
        assert_eq!(operation(Some("RekognitionService.AssociateFaces")), Ok(Operation::AssociateFaces));
        for bad in
            [None, Some("AssociateFaces"), Some("RekognitionService.associateFaces"), Some("X.ListUsers")]
        {
            assert_eq!(operation(bad).map_err(|e| e.code), Err(ErrorCode::UnknownOperationException));
        }
    }

    #[test]
    fn bodies_that_do_not_fit_are_serialization_errors() {
        for bad in [&b"not json"[..], b"[]", b"3", b"{\"CollectionId\": 5}", b"{\"FaceIds\": \"x\"}"] {
            let err = decode(Operation::AssociateFaces, bad).expect_err("rejected");
            assert_eq!(err.code, ErrorCode::SerializationException);
        }
        assert!(decode(Operation::ListCollections, b"").is_ok());
        assert!(decode(Operation::ListCollections, b"{}").is_ok());
    }

    #[test]
    fn errors_have_type_code_and_message() {
        let reply = error(&api_error(ErrorCode::ThrottlingException, "slow"), WireStyle::default());
        assert_eq!(reply.status, 500);
        let body: Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(
            body,
            json!({"__type": "ThrottlingException", "Code": "ThrottlingException", "Message": "slow"})
        );
    }
}
