# Built by `npm run build:native` (native/original-dst/build.js), never by an install hook:
# the addon is part of this project, not a published package.
{
  "targets": [
    {
      "target_name": "original_dst",
      "sources": ["original_dst.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
