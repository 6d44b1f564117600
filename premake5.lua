-- Hive build script, premake5 style.
--
-- premake5 users:   premake5 gmake2
-- Debian (premake4): premake4 --file=premake5.lua gmake
-- Most people never call premake themselves: `make test` / `make demo` do.
--
-- Projects are discovered from the tree, so adding a test area, a bench
-- or an example needs no edit here:
--   tests/<area>/*.c     -> bin/<Config>/test-<area>   (one Criterion binary per area)
--   bench/<name>.c       -> bin/<Config>/bench-<name>
--   bench/<name>/*.c     -> bin/<Config>/bench-<name>
--   examples/<name>/*.c  -> bin/<Config>/<name>
--   demo/<part>/*.c      -> bin/<Config>/hive-demo-<part>
--   tools/<name>/*.c     -> bin/<Config>/hive-<name>
-- Code that several programs share is a static library (below), never a
-- source compiled twice or a .c included from another folder.

---------------------------------------------------------------------------
-- premake4 shim: maps the premake5 names used below onto premake4 4.3.
---------------------------------------------------------------------------
if string.sub(_PREMAKE_VERSION, 1, 1) == "4" then
  workspace = solution
  local p4_configuration = configuration
  local p4_flags = flags
  function filter(f)
    if type(f) == "table" then f = f[1] end
    if f == nil or f == "" then return p4_configuration({}) end
    f = string.gsub(f, "^configurations:", "")
    return p4_configuration(f)
  end
  function symbols(v) if v == "On" then p4_flags { "Symbols" } end end
  function optimize(v)
    if v == "On" or v == "Speed" or v == "Full" then p4_flags { "OptimizeSpeed" }
    elseif v == "Size" then p4_flags { "OptimizeSize" } end
  end
  function cdialect(v) buildoptions { "-std=" .. string.lower(v) } end
  function warnings(v)
    if v == "Extra" then p4_flags { "ExtraWarnings" }
    elseif v == "Off" then buildoptions { "-w" } end
  end
  function staticruntime() end
  function removefiles(v) excludes(v) end
end

local CONFIGS = { "Debug", "Release", "Sanitize", "TSan" }
local SAN  = "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
local TSAN = "-fsanitize=thread -fno-omit-frame-pointer"

-- Libraries every networked binary links, in link order.
local NET_LIBS = { "enet", "msgpackc", "wslay", "ssl", "crypto", "zstd", "pthread", "m" }
local SDL_LIBS = { "SDL2_ttf", "SDL2_image", "SDL2" }

local function per_config_targetdir()
  for _, c in ipairs(CONFIGS) do
    filter("configurations:" .. c)
      targetdir("bin/" .. c)
  end
  filter {}
end

workspace "hive"
  configurations(CONFIGS)
  location "build"
  objdir "obj"
  language "C"
  cdialect "gnu11"
  warnings "Extra"
  includedirs { "include", "." }
  buildoptions { "-Wall", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-D_GNU_SOURCE" }

  filter "configurations:Debug"
    symbols "On"
    defines { "HIVE_DEBUG" }
  filter "configurations:Release"
    optimize "Speed"
    symbols "On"
    defines { "NDEBUG" }
    buildoptions { "-O2" }
  filter "configurations:Sanitize"
    symbols "On"
    defines { "HIVE_DEBUG", "HIVE_SANITIZE" }
    buildoptions { "-O1", SAN }
    linkoptions { SAN }
  filter "configurations:TSan"
    symbols "On"
    defines { "HIVE_DEBUG", "HIVE_TSAN" }
    buildoptions { "-O1", TSAN }
    linkoptions { TSAN }
  filter {}

-- The libraries. Every source is compiled into exactly one of them, and
-- programs and tests link what they use (link order: the user first, then
-- what it uses, then the system):
--   hive-events        events/   the bus (libc + pthread)
--   hive-net           net/      transports, framing, server, client -> hive-events
--   hive-engine        engine/   the loop, timers, services (no SDL) -> hive-net
--   hive-sdl           engine/sdl/  SDL2 window and input            -> hive-engine
--   hive-demo-common   demo/common/  the demo's game rules            -> hive-net
--   hive-loadgen-core  tools/loadgen/ but main.c: the load generator  -> hive-net
--   hive-bridge        bridge/   the bus on NATS (libnats)            -> hive-events
--                      only what bridges links it, so only that needs libnats
-- `make install` assembles the installed libhive.a from hive-events and
-- hive-net (tools/install.sh), so `pkg-config --libs hive` is one library.
local function library(name, srcs, opts)
  project(name)
    kind "StaticLib"
    files(srcs)
    if opts and opts.removefiles then removefiles(opts.removefiles) end
    if opts and opts.sdl then buildoptions { "-I/usr/include/SDL2" } end
    per_config_targetdir()
end

local has_engine = #os.matchfiles("engine/*.c") > 0
local has_sdl = #os.matchfiles("engine/sdl/*.c") > 0

library("hive-events", { "events/**.c", "events/**.h", "include/hive/*.h" })
library("hive-net", { "net/**.c", "net/**.h" })
if has_engine then library("hive-engine", { "engine/*.c", "engine/*.h" }) end
if has_sdl then library("hive-sdl", { "engine/sdl/**.c", "engine/sdl/**.h" }, { sdl = true }) end
library("hive-demo-common", { "demo/common/*.c", "demo/common/*.h" })
if #os.matchfiles("bridge/*.c") > 0 then library("hive-bridge", { "bridge/*.c", "bridge/*.h" }) end
library("hive-loadgen-core", { "tools/loadgen/*.c", "tools/loadgen/*.h" },
        { removefiles = { "tools/loadgen/main.c" } })

local function basename(p) return string.match(p, "([^/]+)$") end

-- opts: uses = internal libraries above hive-engine (demo common, loadgen);
-- engine / sdl: the loop / the SDL wrapper; events_only: the bus alone.
local function program(name, srcs, opts)
  project(name)
    kind "ConsoleApp"
    files(srcs)
    per_config_targetdir()
    local l = {}
    for _, x in ipairs(opts.uses or {}) do table.insert(l, x) end
    if opts.sdl then table.insert(l, "hive-sdl") end
    if opts.engine or opts.sdl then table.insert(l, "hive-engine") end
    if not opts.events_only then table.insert(l, "hive-net") end
    table.insert(l, "hive-events")
    if opts.criterion then table.insert(l, "criterion") end
    if opts.nats then table.insert(l, "nats") end
    if opts.sdl then
      buildoptions { "-I/usr/include/SDL2" }
      for _, x in ipairs(SDL_LIBS) do table.insert(l, x) end
    end
    if opts.events_only then
      table.insert(l, "pthread"); table.insert(l, "m")
    else
      for _, x in ipairs(NET_LIBS) do table.insert(l, x) end
    end
    links(l)
end

-- What each discovered program links beyond hive-net + hive-events.
local LOADGEN = { "hive-loadgen-core" }
local AREA_OPTS = {
  bus    = { events_only = true },
  engine = { sdl = has_sdl, engine = has_engine },
  demo   = { uses = { "hive-demo-common" }, sdl = has_sdl, engine = has_engine },
  docs   = {},
  scale  = { uses = LOADGEN },
  bridge = { uses = { "hive-bridge" }, nats = true, engine = has_engine },
}

-- tests/support/ is not an area: its files are linked into every test binary.
for _, d in ipairs(os.matchdirs("tests/*")) do
  local area = basename(d)
  if area ~= "support" and #os.matchfiles(d .. "/*.c") > 0 then
    local o = AREA_OPTS[area] or {}
    program("test-" .. area, { d .. "/**.c", d .. "/**.h", "tests/support/*.c", "tests/support/*.h" },
      { criterion = true, events_only = o.events_only, uses = o.uses, sdl = o.sdl, engine = o.engine, nats = o.nats })
  end
end

for _, f in ipairs(os.matchfiles("bench/*.c")) do
  local name = string.gsub(basename(f), "%.c$", "")
  program("bench-" .. name, { f }, { events_only = (name == "bus"),
    uses = (name == "bridge") and { "hive-bridge" } or nil, nats = (name == "bridge") })
end
for _, d in ipairs(os.matchdirs("bench/*")) do
  if #os.matchfiles(d .. "/*.c") > 0 then
    program("bench-" .. basename(d), { d .. "/**.c", d .. "/**.h" },
      { uses = (basename(d) == "scale") and LOADGEN or nil })
  end
end

for _, d in ipairs(os.matchdirs("examples/*")) do
  if #os.matchfiles(d .. "/*.c") > 0 then
    program(basename(d), { d .. "/**.c", d .. "/**.h" }, {})
  end
end

for _, d in ipairs(os.matchdirs("demo/*")) do
  local part = basename(d)
  if part ~= "common" and #os.matchfiles(d .. "/*.c") > 0 then
    -- The server links the loop and timers (hive-engine) but not hive-sdl:
    -- it is headless and links no SDL at all.
    -- The server can join a cluster (--nats): it links the bridge, and so
    -- libnats; the client does not.
    program("hive-demo-" .. part, { d .. "/**.c", d .. "/**.h" },
      { uses = (part == "server") and { "hive-demo-common", "hive-bridge" } or { "hive-demo-common" },
        nats = (part == "server"), sdl = (part ~= "server") and has_sdl, engine = has_engine })
  end
end

-- A tool whose folder is also a library (tools/loadgen) builds only its
-- main.c here and links the rest.
for _, d in ipairs(os.matchdirs("tools/*")) do
  if #os.matchfiles(d .. "/*.c") > 0 then
    local name = basename(d)
    if name == "loadgen" then
      program("hive-loadgen", { d .. "/main.c", d .. "/*.h" }, { uses = LOADGEN })
    else
      program("hive-" .. name, { d .. "/**.c", d .. "/**.h" }, {})
    end
  end
end
