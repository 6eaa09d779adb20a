"""gcp-storage-emulator (PyPI) for the GCS drain tests, with what its XML API lacks.

object_store's GCS client uses the XML API: PUT and GET of /{bucket}/{object}, which the
emulator serves, and DELETE of /{bucket}/{object} and GET /{bucket}?list-type=2 (a
ListBucketResult), which it does not. Both are added here on the emulator's own storage and
handlers, so what a test reads is what the emulator stored. object_store also percent-encodes
the object name whole (`a%2Fb.txt`), as GCS accepts; the emulator routes on the raw path, so
XML API paths are decoded before routing.

Usage: emulator.py PORT BUCKET   (in memory; prints "ready" once it accepts connections)
"""

import socket
import sys
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from http import HTTPStatus
from urllib.parse import unquote, urlparse
from xml.sax.saxutils import escape

from gcp_storage_emulator import server
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects


def xml_list(request, response, storage, *args, **kwargs):
    bucket = request.params["bucket_name"]
    query = lambda k: request.query.get(k, [None])[0]
    try:
        files, prefixes = storage.get_file_list(bucket, query("prefix"), query("delimiter"))
    except NotFound:
        response.status = HTTPStatus.NOT_FOUND
        return
    contents = "".join(
        "<Contents><Key>{}</Key><Size>{}</Size><LastModified>{}</LastModified></Contents>".format(
            escape(f["name"]), f["size"], f["updated"]
        )
        for f in files
    )
    common = "".join(
        "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>".format(escape(p))
        for p in prefixes
    )
    response["Content-Type"] = "application/xml"
    response.write(
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
        "<Name>{}</Name>{}{}</ListBucketResult>".format(escape(bucket), contents, common)
    )


def decode_xml_paths():
    json_api = ("/storage/", "/upload/", "/download/", "/batch/", "/b/", "/b?")
    original = server.Request.__init__

    def init(self, request_handler, method):
        original(self, request_handler, method)
        path, sep, query = self._path.partition("?")
        if not path.startswith(json_api):
            self._path = unquote(path) + sep + query
            self._full_url = self._base_url + self._path
            self._parsed_url = urlparse(self._full_url)

    server.Request.__init__ = init


def etag(obj):
    return '"{}"'.format(obj.get("md5Hash") or obj["generation"])


def xml_put(request, response, storage, *args, **kwargs):
    """The emulator's XML upload of the body as sent: it would parse a JSON body first."""
    request._data = server._read_raw_data(request._request_handler) or b""
    objects.xml_upload(request, response, storage)
    if response.status == HTTPStatus.OK:
        obj = storage.get_file_obj(request.params["bucket_name"], request.params["object_id"])
        response["ETag"] = etag(obj)


def xml_get(request, response, storage, *args, **kwargs):
    """The emulator's download, plus the ETag and Last-Modified headers GCS sends."""
    objects.download(request, response, storage)
    if response.status in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
        obj = storage.get_file_obj(request.params["bucket_name"], request.params["object_id"])
        updated = datetime.strptime(obj["updated"], "%Y-%m-%dT%H:%M:%S.%fZ")
        response["ETag"] = etag(obj)
        response["Last-Modified"] = format_datetime(updated.replace(tzinfo=timezone.utc), usegmt=True)


def add_xml_routes():
    routes = list(server.HANDLERS)
    for i, (regex, handlers) in enumerate(routes):
        if regex == r"^/(?P<bucket_name>[-.\w]+)/(?P<object_id>.*[^/]+)$":
            routes[i] = (
                regex,
                {server.GET: xml_get, server.PUT: xml_put, server.DELETE: objects.delete},
            )
    routes.append((r"^/(?P<bucket_name>[-.\w]+)/?$", {server.GET: xml_list}))
    server.HANDLERS = tuple(routes)


def main():
    port, bucket = int(sys.argv[1]), sys.argv[2]
    add_xml_routes()
    decode_xml_paths()
    s = server.create_server("127.0.0.1", port, in_memory=True, default_bucket=bucket)
    s.start()
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        s.stop()


if __name__ == "__main__":
    main()
