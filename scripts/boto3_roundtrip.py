#!/usr/bin/env python3
"""Round trip through boto3 against a rekcon emulator: collection -> index -> user ->
associate -> search users -> disassociate -> delete.

Usage: python3 scripts/boto3_roundtrip.py URL

Exits 0 when every step answers as the contract says, 1 on a mismatch, 2 when boto3 is
missing (the calling test decides whether that is fatal). Uses only the test image
format rekcon's emulator understands: a PNG carrying a `rekcon-faces:v1[...]` marker.
"""

import struct
import sys
import zlib


def fixture_png(people):
    """A tiny valid PNG whose tEXt chunk declares one face per person."""
    marker = "rekcon-faces:v1[" + ";".join(
        f"{p}@{0.1 + 0.2 * i:.2f},0.10,{0.3 / (i + 1):.2f},0.40" for i, p in enumerate(people)
    ) + "]"

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"tEXt", b"Comment\x00" + marker.encode())
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def check(condition, what):
    if not condition:
        print(f"boto3 round trip: FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import boto3
        from botocore.config import Config
    except ImportError as e:
        print(f"boto3 is not installed: {e}", file=sys.stderr)
        return 2

    rek = boto3.client(
        "rekognition",
        endpoint_url=sys.argv[1],
        region_name="us-east-1",
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="test-secret",
        config=Config(retries={"max_attempts": 1}),
    )
    if not hasattr(rek, "associate_faces"):
        print("boto3 is too old: it lacks the users API (needs botocore >= 1.29.152)", file=sys.stderr)
        return 2

    coll = "boto3-roundtrip"
    created = rek.create_collection(CollectionId=coll)
    check(created["StatusCode"] == 200, f"CreateCollection StatusCode {created}")
    check(created["CollectionArn"].startswith("aws:rekognition:"), f"CollectionArn {created['CollectionArn']}")

    indexed = rek.index_faces(CollectionId=coll, Image={"Bytes": fixture_png(["alice"])})
    check(len(indexed["FaceRecords"]) == 1, f"IndexFaces {indexed}")
    face_id = indexed["FaceRecords"][0]["Face"]["FaceId"]
    check(indexed["UnindexedFaces"] == [], "UnindexedFaces is an empty list")

    rek.create_user(CollectionId=coll, UserId="alice")
    users = rek.list_users(CollectionId=coll)["Users"]
    check(users == [{"UserId": "alice", "UserStatus": "CREATED"}], f"ListUsers {users}")

    assoc = rek.associate_faces(CollectionId=coll, UserId="alice", FaceIds=[face_id])
    check(assoc["AssociatedFaces"] == [{"FaceId": face_id}], f"AssociateFaces {assoc}")
    check(assoc["UnsuccessfulFaceAssociations"] == [], "UnsuccessfulFaceAssociations is []")
    check(assoc["UserStatus"] == "UPDATING", f"UserStatus {assoc['UserStatus']}")

    search = rek.search_users(CollectionId=coll, FaceId=face_id)
    matches = search["UserMatches"]
    check(matches and matches[0]["User"]["UserId"] == "alice", f"SearchUsers {search}")
    check(matches[0]["Similarity"] > 99.0, "own face matches its user at ~100")
    check(search["SearchedFace"] == {"FaceId": face_id}, "SearchedFace echoes the FaceId")
    check("SearchedUser" not in search, "SearchedUser absent when searching by FaceId")

    try:
        rek.search_users(CollectionId=coll, UserId="nobody")
        check(False, "SearchUsers with an unknown UserId must fail")
    except rek.exceptions.InvalidParameterException as e:
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, "InvalidParameterException is HTTP 400")

    dis = rek.disassociate_faces(CollectionId=coll, UserId="alice", FaceIds=[face_id])
    check(dis["DisassociatedFaces"] == [{"FaceId": face_id}], f"DisassociateFaces {dis}")
    check(dis["UserStatus"] == "UPDATING", f"UserStatus {dis['UserStatus']}")

    rek.delete_user(CollectionId=coll, UserId="alice")
    deleted = rek.delete_faces(CollectionId=coll, FaceIds=[face_id])
    check(deleted["DeletedFaces"] == [face_id], f"DeleteFaces {deleted}")
    check(rek.delete_collection(CollectionId=coll)["StatusCode"] == 200, "DeleteCollection")
    try:
        rek.describe_collection(CollectionId=coll)
        check(False, "DescribeCollection of a deleted collection must fail")
    except rek.exceptions.ResourceNotFoundException as e:
        request_id = e.response["ResponseMetadata"].get("RequestId", "")
        check(len(request_id) == 36, f"x-amzn-RequestId {request_id!r}")

    print("boto3 round trip: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
