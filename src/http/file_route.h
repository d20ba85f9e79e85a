// A part of the HTTP URL space a module serves as files (XEP-0363 upload
// slots): the HTTP server parses the requests and moves the bytes; the
// module says who may write what where, and what a GET finds. Nothing here
// names Beast, so modules stay out of the HTTP server's templates.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tern::http {

// The header of a PUT to a routed path.
struct FilePut {
  std::string_view path;  // the URL path, query removed ("/upload/<id>/<name>")
  std::optional<std::uint64_t> content_length;  // nullopt: chunked
  std::string_view content_type;
  std::string_view authorization;
};

// Where the body of an accepted PUT goes, or the HTTP status that refuses it.
struct FilePutDecision {
  int status = 0;  // 0: accepted; else 403, 404, 409, 413, 400, …
  std::filesystem::path temp_file;  // written by the server, handed back to `finish_put`
  std::uint64_t size = 0;           // the exact body size the slot allows
};

// A file a GET or HEAD serves.
struct ServedFile {
  std::filesystem::path file;
  std::string content_type;
  std::uint64_t size = 0;
  std::string filename;  // for Content-Disposition
};

struct FileRoute {
  std::string prefix;  // "/upload/": paths that start with it are routed
  // Called with the header of a PUT, before any of the body is read.
  std::function<FilePutDecision(const FilePut&)> authorise_put;
  // The body of an accepted PUT is in `temp_file` (ok) or was not received
  // whole (!ok: the server removes nothing, the module cleans up). Returns
  // the status to answer: 201 once the file is in place, else an error.
  std::function<int(std::string_view path, const std::filesystem::path& temp_file, bool ok)>
      finish_put;
  // A GET or HEAD of `path`; nullopt: 404.
  std::function<std::optional<ServedFile>(std::string_view path)> find_file;
  // Cache-Control of served files (they never change under one URL).
  std::string cache_control = "public, max-age=31536000, immutable";
};

}  // namespace tern::http
