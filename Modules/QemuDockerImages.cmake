#[=======================================================================[.rst:
QemuDockerImages
----------------

Builds container images from folders of layered Dockerfiles as part of the
build graph.  An image is rebuilt exactly when something it is made of
changed: an instruction of its Dockerfile or of any local base it stands on,
a byte of a file its ``COPY`` or ``ADD`` instructions copy, or a build
argument it declares.  Bases are built first, in the order their ``FROM``
lines give; nobody writes image dependencies by hand.

A local base is named ``FROM qemu/NAME`` (or ``FROM qemu:NAME``) and is the
Dockerfile ``NAME.docker`` of the added folders.  The work is done by the
``qemu-docker-images`` helper: it flattens and checksums each image in a
custom command whose outputs change only when their content does, with a
depfile naming the files it copies where it copies any, and it asks the
container engine whether an image with the right checksum label already
exists before building one.

Commands
^^^^^^^^

.. command:: QemuDockerImages_AddDirectory

  Adds every ``*.docker`` file of a folder as an image::

    QemuDockerImages_AddDirectory(<dir>
      [BUILD_ARGS <name>=<value>...]
      [ENGINE_FLAGS <flag>...]
      [EXCLUDE <name>...])

  ``BUILD_ARGS`` and ``ENGINE_FLAGS`` apply to each image of the folder
  that was not added before with its own options.  ``EXCLUDE`` leaves out
  the named images.  A ``.docker`` file added to the folder later appears
  as a target at the next build, without running CMake by hand.

.. command:: QemuDockerImages_Add

  Adds one image::

    QemuDockerImages_Add(<name> DOCKERFILE <file>
      [BUILD_ARGS <name>=<value>...]
      [EXTRA_FILES <file>...]
      [CONTEXT <dir>]
      [ENGINE_FLAGS <flag>...]
      [TAG <tag>]
      [EXECUTABLES <file>...]
      [ADD_CURRENT_USER | NOUSER])

  ``<name>`` may differ from the file's name, which makes a "virtual" image:
  the same Dockerfile built with other files.  Its options are its own, also
  where several virtual images share one file, as QEMU's
  ``debian-nios2-cross`` and ``debian-microblaze-cross`` share
  ``debian-toolchain.docker``; a virtual image cannot be a base, so its name
  must not be that of a ``.docker`` file of the search folders (configure
  stops where it is).  Where the file does not build on its own, leave it
  out of :command:`QemuDockerImages_AddDirectory` with ``EXCLUDE``.
  ``EXTRA_FILES`` are staged at the root of the image's build context, as
  QEMU's ``--extra-files`` did; the files of a ``<file>.d/`` folder beside
  the Dockerfile are staged too.  ``CONTEXT`` uses a real folder as the
  build context instead.  ``ENGINE_FLAGS`` are extra options of the engine's
  ``build``.  ``TAG`` replaces the default tag,
  ``${QEMU_DOCKER_IMAGES_TAG_PREFIX}<name>``.  Call it before
  :command:`QemuDockerImages_AddDirectory` for an image of that folder that
  needs its own options.

  ``EXECUTABLES`` are staged in the context at ``usr/bin/<file name>``,
  each with the shared libraries that ``ldd`` lists for it at their own
  paths, as QEMU's ``--include-executable`` did, so that ``ADD . /`` puts a
  working copy into an image of any distribution.  Like extra files, they
  are part of the checksum where a ``COPY`` or ``ADD`` takes them.
  ``ADD_CURRENT_USER`` ends the image with an instruction that adds
  :variable:`QEMU_DOCKER_IMAGES_CURRENT_USER` (``useradd``, or lines of
  ``/etc/passwd`` and ``/etc/group`` where there is no ``useradd``), as
  QEMU's ``--add-current-user``; the user's name and uid are thereby part
  of the checksum.  ``NOUSER`` turns that off for one image when
  :variable:`QEMU_DOCKER_IMAGES_ADD_CURRENT_USER` is on.

  An executable ``<stem>.pre`` script beside the Dockerfile (QEMU's
  convention) runs before the image is built, in the folder that becomes
  the staged context, before the staged files are copied there; with
  ``CONTEXT`` it runs in an unused folder and only its exit status counts.
  Its bytes and mode are part of the checksum; what it writes is not.
  Exit status 3 skips the image: the build prints
  ``qemu-docker-images: <tag>: skipped: <script> exited with status 3``,
  builds nothing, and records the image as skipped, so that the next build
  neither runs the script nor asks the engine again until the checksum
  changes.  An image above a skipped one fails to build, as its base is
  missing.

.. command:: QemuDockerImages_AddTest

  Adds a ctest test that runs a command inside an image::

    QemuDockerImages_AddTest(<name> IMAGE <image>
      [MOUNT_SOURCE_DIR] [MOUNT_BINARY_DIR]
      [WORKING_DIRECTORY <dir>]
      [ENVIRONMENT <name>=<value>...]
      [USER <user>]
      COMMAND <command> <arg>...)

  The test passes when the command exits with status 0.  It requires a
  fixture whose setup test, ``docker-<image>``, runs
  ``cmake --build <build folder> --target docker-<image>``, so that
  ``ctest -R <name>`` first makes a stale image current; setup tests take
  turns (``RESOURCE_LOCK``), since two build tools must not share a build
  folder.  ``MOUNT_SOURCE_DIR`` mounts :variable:`CMAKE_SOURCE_DIR`
  read-only and ``MOUNT_BINARY_DIR`` mounts :variable:`CMAKE_BINARY_DIR`
  writable, each at its own path.  ``WORKING_DIRECTORY``, ``ENVIRONMENT``
  and ``USER`` are the command's folder, variables and user in the
  container.  ``COMMAND`` comes last, since everything after it is the
  command; its arguments cannot hold a newline.  Docker runs the command
  with ``docker run --rm --pull never``; for Podman see
  :variable:`QEMU_DOCKER_IMAGES_RUNNER`.  The target
  ``docker-test-<name>+<image>`` (QEMU's ``docker-TEST@IMAGE``; CMake
  refuses ``@`` in target names) makes the image current and runs the
  command from the build tool.

Targets
^^^^^^^

``docker-<name>``
  Makes the image current, its local bases first.
``docker-images``
  Makes every image current.
``docker-images-check``
  Asks the engine for every image recorded as built and forgets those it
  no longer has (removed with ``docker rmi``, or another engine), so that
  the next build rebuilds them.
``docker-images-check-bases``
  With :variable:`QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES`, asks the engine
  which image each external base is (one ``image inspect`` per base) and
  rewrites the identity files of those that changed, so that the next
  build rebuilds the images above them.  It builds nothing.
``docker-images-help``
  Lists the images, their local bases and their tags, as QEMU's
  ``make docker`` did.
``docker-images-list``
  Prints a table of the images with their state (``current``, ``stale``,
  ``skipped``), local and external bases.  Like the graph below, it first
  brings every checksum up to date, so a Dockerfile edited since the last
  build shows its image as stale.
``docker-images-graph``
  Writes the image graph to ``qemu-docker-images/images.dot`` in the
  build folder, each image coloured by its state and each external base
  drawn dashed, and, where Graphviz's ``dot`` is found, ``images.svg`` and
  ``images.png``.
``docker-test-<name>+<image>``
  Runs a test of :command:`QemuDockerImages_AddTest` in its image.

Cache variables
^^^^^^^^^^^^^^^

``QEMU_DOCKER_IMAGES_ENGINE``
  ``auto`` (the default: Docker when ``docker info`` answers, else
  Podman), ``docker``, ``podman``, or the path of a docker-compatible
  command.
``QEMU_DOCKER_IMAGES_ENGINE_ARGS``
  A list of global options placed before the engine's subcommand, such as
  Podman's ``--root;<dir>;--storage-driver;vfs``.
``QEMU_DOCKER_IMAGES_BUILD_FLAGS``
  A list of extra options for every ``build``, such as
  ``--isolation=chroot`` for Podman.
``QEMU_DOCKER_IMAGES_NOCACHE``
  Build without the engine's cache (QEMU's ``NOCACHE=1``).
``QEMU_DOCKER_IMAGES_TAG_PREFIX``
  The prefix of every tag; ``qemu/`` by default.
``QEMU_DOCKER_IMAGES_ADD_CURRENT_USER``
  Add :variable:`QEMU_DOCKER_IMAGES_CURRENT_USER` to every image that does
  not say ``NOUSER``.  Off by default, unlike QEMU's Makefile, whose
  ``NOUSER=1`` turned it off: an image needs a shell for it, which images
  built ``FROM scratch`` may lack.
``QEMU_DOCKER_IMAGES_CURRENT_USER``
  ``NAME:UID`` of the user to add; empty (the default) for the user that
  runs CMake.
``QEMU_DOCKER_IMAGES_PASS_PROXY``
  Pass ``http_proxy``, ``https_proxy``, ``ftp_proxy``, ``no_proxy``,
  ``all_proxy`` and their upper-case forms from the build's environment
  to the engine as build arguments (Docker's predefined ones, which a
  Dockerfile need not declare), as QEMU's ``docker.py`` did.  On by
  default.  They are not part of any checksum: they say how a build
  reaches the network, not what the image holds.
``QEMU_DOCKER_IMAGES_RUNNER``
  What runs the tests of :command:`QemuDockerImages_AddTest`: ``engine``
  (``run --rm`` of the engine), ``buildah`` (``buildah run --isolation
  chroot`` in a working container of the image, with the engine's global
  options, which buildah shares with Podman), or ``auto`` (the default:
  buildah when the engine is Podman and buildah is installed, since
  Podman cannot start containers where it lacks rlimit rights).
``QEMU_DOCKER_IMAGES_DOT``
  Graphviz's ``dot``, found automatically, which draws
  ``docker-images-graph`` as SVG and PNG.
``QEMU_DOCKER_IMAGES_VERBOSE``
  Say for each image why it is built or not, and show the engine's output
  (QEMU's ``V=1``).
``QEMU_DOCKER_IMAGES_HELPER``
  The ``qemu-docker-images`` executable.  Empty by default: the imported
  executable of ``find_package(QemuDockerImages)`` or the target of this
  project's own build is used.

Registry cache, off unless ``QEMU_DOCKER_IMAGES_REGISTRY`` is set:

``QEMU_DOCKER_IMAGES_REGISTRY``
  A registry, ``HOST[:PORT][/PATH]``.  When the engine lacks an image, its
  step first pulls ``<registry>/<prefix><name>:<checksum>``; an image
  whose ``com.qemu.dockerfile-checksum`` label is the checksum is tagged
  as the image and not built.  A missing tag is a cache miss; a wrong
  label, an unreachable registry or a failed pull prints one line and the
  image is built.  The registry is asked only where the engine would be,
  so a build in which nothing changed starts no process.
``QEMU_DOCKER_IMAGES_REGISTRY_PREFIX``
  The repository prefix in the registry; ``qemu/`` by default.
``QEMU_DOCKER_IMAGES_REGISTRY_FLAGS``
  A list of options of the engine's ``pull`` and ``push``, such as
  Podman's ``--tls-verify=false`` for a registry without TLS.
``QEMU_DOCKER_IMAGES_REGISTRY_PUSH``
  Push each image after building it (and each image that a fresh build
  folder finds current in the engine).  Off by default.
``QEMU_DOCKER_IMAGES_REGISTRY_STRICT_PUSH``
  A failed push fails the image step, which leaves no stamp, so the next
  build pushes again.  Off by default: a failed push prints one line.

Pinned external bases:

``QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES``
  Off by default.  When on, each checksum also covers the image ID, as the
  engine knows it, of every external base (``FROM debian:bookworm``) of the
  image's chain, so an updated base makes every image above it stale.
  The IDs live in one file per base in the build folder, written only
  when the ID changes: the first build asks the engine once per base (and
  pulls a base it lacks), :target:`docker-images-check-bases` asks again;
  other builds ask nothing.  Switching the option changes the checksums of
  the images on external bases, so they are rebuilt once.
``QEMU_DOCKER_IMAGES_CHECK_BASES_PULL``
  :target:`docker-images-check-bases` pulls each external base before it
  asks, to see updates in the base's registry.  Off by default.

Remote builders:

``QEMU_DOCKER_IMAGES_BUILD_COMMAND``
  The list of words that replace ``build`` in the engine's command, such
  as ``buildx;build;--builder;<name>;--load`` for a BuildKit builder on
  another machine that loads the image into the local engine.
``QEMU_DOCKER_IMAGES_FLATTENED_BUILD``
  Build each image from its flattened Dockerfile in the union of its
  chain's contexts instead of from its own Dockerfile on its local bases'
  tags, since a remote builder cannot see the local engine's images.  Off
  by default.  The build is then self-contained, so the builder's cache,
  not the local bases, makes the chain cheap; the bases are still built
  first, as their own images.

Example
^^^^^^^

.. code-block:: cmake

  find_package(QemuDockerImages REQUIRED)
  include(QemuDockerImages)
  QemuDockerImages_Add(debian-nios2-cross
    DOCKERFILE dockerfiles/debian-toolchain.docker
    EXTRA_FILES dockerfiles/debian-nios2-cross.d/build-toolchain.sh)
  QemuDockerImages_AddDirectory(dockerfiles)
  QemuDockerImages_AddTest(quick-test IMAGE debian-win64-cross
    MOUNT_SOURCE_DIR MOUNT_BINARY_DIR WORKING_DIRECTORY "${CMAKE_BINARY_DIR}"
    COMMAND "${CMAKE_SOURCE_DIR}/tests/docker/test-mingw")

and then ``cmake --build . --target docker-debian-win64-cross``, or
``ctest -R quick-test``.

CI runners that share a registry cache: the first to build an image pushes
it, the others pull it::

  cmake -S . -B build -DQEMU_DOCKER_IMAGES_REGISTRY=registry.example:5000 \
    -DQEMU_DOCKER_IMAGES_REGISTRY_PUSH=ON
#]=======================================================================]

include_guard(GLOBAL)

if(CMAKE_VERSION VERSION_LESS 3.20)
  message(FATAL_ERROR "QemuDockerImages needs CMake 3.20 or newer")
endif()

set(_QEMU_DOCKER_IMAGES_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")

set(QEMU_DOCKER_IMAGES_ENGINE "auto" CACHE STRING
  "Container engine: auto, docker, podman, or a docker-compatible command")
set_property(CACHE QEMU_DOCKER_IMAGES_ENGINE PROPERTY STRINGS
  auto docker podman)
set(QEMU_DOCKER_IMAGES_ENGINE_ARGS "" CACHE STRING
  "Global options of the container engine (a list)")
set(QEMU_DOCKER_IMAGES_BUILD_FLAGS "" CACHE STRING
  "Extra options of every image build (a list)")
option(QEMU_DOCKER_IMAGES_NOCACHE "Build images without the engine's cache"
  OFF)
set(QEMU_DOCKER_IMAGES_TAG_PREFIX "qemu/" CACHE STRING
  "Prefix of the images' tags")
option(QEMU_DOCKER_IMAGES_ADD_CURRENT_USER
  "Add the current user to every image that does not say otherwise" OFF)
set(QEMU_DOCKER_IMAGES_CURRENT_USER "" CACHE STRING
  "NAME:UID of the user added to images (empty: the user running CMake)")
option(QEMU_DOCKER_IMAGES_PASS_PROXY
  "Pass the environment's proxy variables to image builds" ON)
set(QEMU_DOCKER_IMAGES_RUNNER "auto" CACHE STRING
  "What runs tests in images: auto, engine or buildah")
set_property(CACHE QEMU_DOCKER_IMAGES_RUNNER PROPERTY STRINGS
  auto engine buildah)
option(QEMU_DOCKER_IMAGES_VERBOSE
  "Say why each image is built and show the engine's output" OFF)
set(QEMU_DOCKER_IMAGES_HELPER "" CACHE FILEPATH
  "The qemu-docker-images executable (empty: found automatically)")
set(QEMU_DOCKER_IMAGES_REGISTRY "" CACHE STRING
  "Registry cache HOST[:PORT][/PATH] to pull images from (empty: none)")
set(QEMU_DOCKER_IMAGES_REGISTRY_PREFIX "qemu/" CACHE STRING
  "Repository prefix of the images in the registry cache")
set(QEMU_DOCKER_IMAGES_REGISTRY_FLAGS "" CACHE STRING
  "Options of the engine's pull and push (a list)")
option(QEMU_DOCKER_IMAGES_REGISTRY_PUSH
  "Push every image built to the registry cache" OFF)
option(QEMU_DOCKER_IMAGES_REGISTRY_STRICT_PUSH
  "Fail the build when a push to the registry cache fails" OFF)
option(QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES
  "Make the checksums cover the image ID of each external base" OFF)
option(QEMU_DOCKER_IMAGES_CHECK_BASES_PULL
  "docker-images-check-bases pulls each external base first" OFF)
set(QEMU_DOCKER_IMAGES_BUILD_COMMAND "build" CACHE STRING
  "The engine's words that build an image (a list)")
option(QEMU_DOCKER_IMAGES_FLATTENED_BUILD
  "Build each image from its flattened Dockerfile and the union context"
  OFF)

function(QemuDockerImages_Add name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "ADD_CURRENT_USER;NOUSER"
    "DOCKERFILE;CONTEXT;TAG"
    "BUILD_ARGS;EXTRA_FILES;ENGINE_FLAGS;EXECUTABLES")
  _qdi_reject_unparsed(QemuDockerImages_Add "${arg_UNPARSED_ARGUMENTS}")
  if(NOT arg_DOCKERFILE)
    message(FATAL_ERROR
      "QemuDockerImages_Add(${name}): DOCKERFILE is required; name the "
      "image's Dockerfile")
  endif()
  if(arg_ADD_CURRENT_USER AND arg_NOUSER)
    message(FATAL_ERROR
      "QemuDockerImages_Add(${name}): ADD_CURRENT_USER and NOUSER "
      "contradict each other; give one of them")
  endif()
  _qdi_add_image("${name}" "${arg_DOCKERFILE}" "${arg_BUILD_ARGS}"
    "${arg_EXTRA_FILES}" "${arg_CONTEXT}" "${arg_ENGINE_FLAGS}"
    "${arg_TAG}" QemuDockerImages_Add)
  set(executables "")
  foreach(file IN LISTS arg_EXECUTABLES)
    get_filename_component(file "${file}" ABSOLUTE)
    list(APPEND executables "${file}")
  endforeach()
  set_property(GLOBAL PROPERTY _QDI_${name}_executables "${executables}")
  if(arg_ADD_CURRENT_USER)
    set_property(GLOBAL PROPERTY _QDI_${name}_user ON)
  elseif(arg_NOUSER)
    set_property(GLOBAL PROPERTY _QDI_${name}_user OFF)
  endif()
endfunction()

function(QemuDockerImages_AddTest name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "MOUNT_SOURCE_DIR;MOUNT_BINARY_DIR"
    "IMAGE;WORKING_DIRECTORY;USER" "COMMAND;ENVIRONMENT")
  _qdi_reject_unparsed(QemuDockerImages_AddTest "${arg_UNPARSED_ARGUMENTS}")
  if(NOT name MATCHES "^[A-Za-z0-9_.-]+$")
    message(FATAL_ERROR
      "QemuDockerImages_AddTest: '${name}' is not a valid test name; use "
      "letters, digits, '.', '_' and '-', since it names a target too")
  endif()
  if(NOT arg_IMAGE)
    message(FATAL_ERROR "QemuDockerImages_AddTest(${name}): IMAGE is "
      "required; name the image the command runs in")
  endif()
  if(NOT arg_COMMAND)
    message(FATAL_ERROR "QemuDockerImages_AddTest(${name}): COMMAND is "
      "required; give the command to run in the image")
  endif()
  foreach(word IN LISTS arg_COMMAND)
    if(word MATCHES "\n")
      message(FATAL_ERROR
        "QemuDockerImages_AddTest(${name}): COMMAND argument '${word}' "
        "holds a newline, which build files cannot carry; write it on "
        "one line")
    endif()
  endforeach()
  get_property(tests GLOBAL PROPERTY _QDI_TEST_NAMES)
  if(name IN_LIST tests)
    message(FATAL_ERROR
      "QemuDockerImages_AddTest(${name}): the test is added twice; give "
      "each test its own name")
  endif()
  set(source "")
  set(binary "")
  if(arg_MOUNT_SOURCE_DIR)
    set(source "${CMAKE_SOURCE_DIR}")
  endif()
  if(arg_MOUNT_BINARY_DIR)
    set(binary "${CMAKE_BINARY_DIR}")
  endif()
  set_property(GLOBAL APPEND PROPERTY _QDI_TEST_NAMES "${name}")
  set(prefix _QDI_TEST_${name})
  set_property(GLOBAL PROPERTY ${prefix}_image "${arg_IMAGE}")
  set_property(GLOBAL PROPERTY ${prefix}_command "${arg_COMMAND}")
  set_property(GLOBAL PROPERTY ${prefix}_source_dir "${source}")
  set_property(GLOBAL PROPERTY ${prefix}_binary_dir "${binary}")
  set_property(GLOBAL PROPERTY ${prefix}_workdir "${arg_WORKING_DIRECTORY}")
  set_property(GLOBAL PROPERTY ${prefix}_user "${arg_USER}")
  set_property(GLOBAL PROPERTY ${prefix}_environment "${arg_ENVIRONMENT}")
  _qdi_record_test("${name}")
endfunction()

function(QemuDockerImages_AddDirectory dir)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" ""
    "BUILD_ARGS;ENGINE_FLAGS;EXCLUDE")
  _qdi_reject_unparsed(QemuDockerImages_AddDirectory
    "${arg_UNPARSED_ARGUMENTS}")
  get_filename_component(dir "${dir}" ABSOLUTE)
  if(NOT IS_DIRECTORY "${dir}")
    message(FATAL_ERROR
      "QemuDockerImages_AddDirectory: '${dir}' is not a folder; name the "
      "folder that holds the *.docker files")
  endif()
  set_property(GLOBAL APPEND PROPERTY _QDI_DIRECTORIES "${dir}")
  file(GLOB dockerfiles LIST_DIRECTORIES false "${dir}/*.docker")
  list(SORT dockerfiles)
  foreach(dockerfile IN LISTS dockerfiles)
    get_filename_component(name "${dockerfile}" NAME_WLE)
    get_property(added GLOBAL PROPERTY _QDI_${name}_dockerfile SET)
    if(added OR name IN_LIST arg_EXCLUDE)
      continue()
    endif()
    _qdi_add_image("${name}" "${dockerfile}" "${arg_BUILD_ARGS}" "" ""
      "${arg_ENGINE_FLAGS}" "" QemuDockerImages_AddDirectory)
  endforeach()
endfunction()

# Rejects arguments that cmake_parse_arguments did not recognise.
function(_qdi_reject_unparsed command unparsed)
  if(unparsed)
    list(GET unparsed 0 first)
    message(FATAL_ERROR
      "${command}: unknown argument '${first}'; see the documentation at "
      "the top of QemuDockerImages.cmake for the accepted keywords")
  endif()
endfunction()

function(_qdi_add_image name dockerfile build_args extra_files context
    engine_flags tag command)
  if(NOT name MATCHES "^[a-z0-9][a-z0-9._-]*$")
    message(FATAL_ERROR
      "${command}: '${name}' is not a valid image name; use lower-case "
      "letters, digits, '.', '_' and '-'")
  endif()
  # A property per image, not a search of the growing list of images,
  # which would make adding n images cost n squared.
  get_property(added GLOBAL PROPERTY _QDI_${name}_dockerfile SET)
  if(added)
    message(FATAL_ERROR
      "${command}: image '${name}' is added twice; add it once, and call "
      "QemuDockerImages_Add before QemuDockerImages_AddDirectory")
  endif()
  get_filename_component(dockerfile "${dockerfile}" ABSOLUTE)
  if(NOT EXISTS "${dockerfile}")
    message(FATAL_ERROR
      "${command}(${name}): Dockerfile '${dockerfile}' does not exist")
  endif()
  foreach(arg IN LISTS build_args)
    if(NOT arg MATCHES "^[A-Za-z_][A-Za-z0-9_]*=")
      message(FATAL_ERROR
        "${command}(${name}): BUILD_ARGS '${arg}' is not NAME=VALUE")
    endif()
  endforeach()
  # Neither Ninja nor Make can hold a newline in a command: the build file
  # would be written and then fail to load.
  foreach(field BUILD_ARGS ENGINE_FLAGS)
    string(TOLOWER "${field}" values)
    foreach(arg IN LISTS ${values})
      if(arg MATCHES "[\r\n]")
        message(FATAL_ERROR
          "${command}(${name}): ${field} '${arg}' holds a line break, "
          "which no build tool's command line can carry; put the text "
          "on one line, or in a file that the Dockerfile copies")
      endif()
    endforeach()
  endforeach()
  set(absolute_files "")
  foreach(file IN LISTS extra_files)
    get_filename_component(file "${file}" ABSOLUTE)
    list(APPEND absolute_files "${file}")
  endforeach()
  if(context)
    get_filename_component(context "${context}" ABSOLUTE)
  endif()
  if(NOT tag)
    set(tag "${QEMU_DOCKER_IMAGES_TAG_PREFIX}${name}")
  endif()

  set_property(GLOBAL APPEND PROPERTY _QDI_IMAGES "${name}")
  foreach(field dockerfile build_args context engine_flags tag)
    set_property(GLOBAL PROPERTY _QDI_${name}_${field} "${${field}}")
  endforeach()
  set_property(GLOBAL PROPERTY _QDI_${name}_extra_files "${absolute_files}")
  _qdi_schedule_generation()
endfunction()

# The targets are made once every image is known, at the end of the
# directory that added the first one: an image's command names the options
# of all the images it may stand on.
function(_qdi_schedule_generation)
  get_property(scheduled GLOBAL PROPERTY _QDI_SCHEDULED)
  if(scheduled)
    get_property(dir GLOBAL PROPERTY _QDI_DIRECTORY)
    if(NOT dir STREQUAL CMAKE_CURRENT_BINARY_DIR)
      message(FATAL_ERROR
        "QemuDockerImages: images are added in ${dir} and in "
        "${CMAKE_CURRENT_BINARY_DIR}; add them all in one directory")
    endif()
    return()
  endif()
  set_property(GLOBAL PROPERTY _QDI_SCHEDULED TRUE)
  set_property(GLOBAL PROPERTY _QDI_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  cmake_language(DEFER CALL _qdi_generate)
endfunction()

include("${_QEMU_DOCKER_IMAGES_MODULE_DIR}/QemuDockerImages/Generate.cmake")
