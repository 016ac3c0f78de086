#!/usr/bin/env python3
"""Builds and runs doc/tutorial.md as a newcomer would: installs this build into
a scratch prefix, writes every file the tutorial pastes, builds the app against
the prefix, starts the installed attachments server on 127.0.0.1, and runs two
devices: the second one must receive the first one's photo byte for byte."""

import argparse
import glob
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def run(command, **kwargs):
    print("+ " + " ".join(command), flush=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=kwargs.pop("timeout", 900), **kwargs)
    print(result.stdout, flush=True)
    if result.returncode != 0:
        fail("%s exited with %d" % (command[0], result.returncode))


def tutorial_files(doc):
    """The code blocks marked `<!-- file: NAME -->`, by NAME."""
    text = open(doc, encoding="utf-8").read()
    files = {}
    for match in re.finditer(r"<!-- file: ([\w.]+) -->\n```\w*\n(.*?)\n```", text, re.S):
        files[match.group(1)] = match.group(2) + "\n"
    for name in ("CMakeLists.txt", "main.cpp", "Main.qml"):
        if name not in files:
            fail("the tutorial has no file " + name)
    return files


def compiled_snippets(docs):
    """The C++ programs of other docs marked `<!-- compile: NAME -->`, by NAME."""
    snippets = {}
    for doc in docs:
        text = open(doc, encoding="utf-8").read()
        for match in re.finditer(r"<!-- compile: ([\w-]+)\.cpp -->\n```cpp\n(.*?)\n```", text,
                                 re.S):
            snippets[match.group(1)] = match.group(2) + "\n"
    return snippets


def build_snippets(args, prefix, snippets):
    """Compiles each program against the installed package (they are not run)."""
    project = os.path.join(args.work, "snippets")
    os.makedirs(project)
    lists = ["cmake_minimum_required(VERSION 3.16)", "project(snippets LANGUAGES CXX)",
             "set(CMAKE_CXX_STANDARD 17)",
             "find_package(Qt6 REQUIRED COMPONENTS Core Sql)",
             "find_package(PowerSyncAttachments REQUIRED)"]
    for name, code in snippets.items():
        with open(os.path.join(project, name + ".cpp"), "w", encoding="utf-8") as out:
            out.write(code)
        lists.append("add_executable(%s %s.cpp)" % (name, name))
        lists.append("target_link_libraries(%s PRIVATE PowerSync::Attachments Qt6::Sql)" % name)
    with open(os.path.join(project, "CMakeLists.txt"), "w", encoding="utf-8") as out:
        out.write("\n".join(lists) + "\n")
    build = os.path.join(project, "build")
    run([args.cmake, "-S", project, "-B", build, "-G", args.generator,
         "-DCMAKE_PREFIX_PATH=" + prefix])
    run([args.cmake, "--build", build])


def png(width, height, rgb):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--doc", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--cmake", required=True)
    parser.add_argument("--generator", required=True)
    parser.add_argument("--compile", action="append", default=[],
                        help="another doc whose marked C++ programs must compile")
    args = parser.parse_args()

    files = tutorial_files(args.doc)
    snippets = compiled_snippets(args.compile)
    if len(args.compile) > 0 and not snippets:
        fail("no marked program in " + ", ".join(args.compile))
    shutil.rmtree(args.work, ignore_errors=True)
    prefix = os.path.join(args.work, "prefix")
    project = os.path.join(args.work, "photos")
    os.makedirs(project)
    for name, text in files.items():
        with open(os.path.join(project, name), "w", encoding="utf-8") as out:
            out.write(text)

    # Step 1 (installing), 6 (building the app).
    run([args.cmake, "--install", args.build_dir, "--prefix", prefix])
    build = os.path.join(project, "build")
    run([args.cmake, "-S", project, "-B", build, "-G", args.generator,
         "-DCMAKE_PREFIX_PATH=" + prefix])
    run([args.cmake, "--build", build])
    app = os.path.join(build, "photos")
    if snippets:
        build_snippets(args, prefix, snippets)

    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("QML_IMPORT_PATH", None)    # only what the install tree provides
    env.pop("QML2_IMPORT_PATH", None)

    # Step 2: the server, on a free port.
    server = subprocess.Popen(
        [os.path.join(prefix, "bin", "powersync-attachments-server"),
         "--root", os.path.join(args.work, "server"), "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, text=True, env=env)
    devices = []
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on http://127.0.0.1:"):
            fail("the server said " + repr(line))
        url = line[len("listening on "):]

        picture = os.path.join(args.work, "picture.png")
        with open(picture, "wb") as out:
            out.write(png(40, 30, (0x15, 0x65, 0xc0)))
        data = os.path.join(args.work, "data")
        common = ["--server", url, "--data", data, "--exit-when-synced", "1"]
        # Step 7: device b waits for a photo; device a adds one.
        devices.append(subprocess.Popen([app, "--device", "b"] + common, env=env))
        devices.append(subprocess.Popen([app, "--device", "a", "--add", picture] + common,
                                        env=env))
        for device in devices:
            code = device.wait(timeout=180)
            if code != 0:
                fail("a device exited with %d" % code)

        expected = open(picture, "rb").read()
        for name in ("a", "b"):
            found = glob.glob(os.path.join(data, "device-" + name, "*.png"))
            if len(found) != 1:
                fail("device %s holds %r" % (name, found))
            if open(found[0], "rb").read() != expected:
                fail("device %s's photo differs from the picture" % name)
        stored = glob.glob(os.path.join(args.work, "server", "*.png"))
        if len(stored) != 1 or open(stored[0], "rb").read() != expected:
            fail("the server holds %r" % stored)
        print("device b received device a's photo through " + url)
    finally:
        for process in devices + [server]:
            if process.poll() is None:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
