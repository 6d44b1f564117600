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
end

local CONFIGS = { "Debug", "Release", "Sanitize", "TSan" }
local SAN  = "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
local TSAN = "-fsanitize=thread -fno-omit-frame-pointer"

-- Libraries every networked binary links, in link order.
local NET_LIBS = { "enet", "msgpackc", "ssl", "crypto", "pthread", "m" }
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

-- The events layer alone (libc + pthread). Used by the bus tests/bench, so
-- they build even while other layers are being worked on.
project "hive-events"
  kind "StaticLib"
  files { "events/**.c", "events/**.h", "include/hive/*.h" }
  per_config_targetdir()

-- What users link: events + net.
project "hive"
  kind "StaticLib"
  files { "events/**.c", "events/**.h", "net/**.c", "net/**.h", "include/hive/*.h" }
  per_config_targetdir()

-- The SDL2 wrapper and game loop; only programs with a window link it.
if #os.matchfiles("engine/*.c") > 0 then
project "hive-engine"
  kind "StaticLib"
  files { "engine/**.c", "engine/**.h" }
  buildoptions { "-I/usr/include/SDL2" }
  per_config_targetdir()
end

local function basename(p) return string.match(p, "([^/]+)$") end

-- Link order matters for static libraries: engine, then hive, then system.
local function program(name, srcs, opts)
  project(name)
    kind "ConsoleApp"
    files(srcs)
    per_config_targetdir()
    local l = {}
    if opts.engine then table.insert(l, "hive-engine") end
    if opts.events_only then table.insert(l, "hive-events") else table.insert(l, "hive") end
    if opts.criterion then table.insert(l, "criterion") end
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

local has_engine = #os.matchfiles("engine/*.c") > 0
local SDL_AREAS = { engine = true, demo = true }

-- tests/support/ is not an area: its files are linked into every test binary.
for _, d in ipairs(os.matchdirs("tests/*")) do
  local area = basename(d)
  if area ~= "support" and #os.matchfiles(d .. "/*.c") > 0 then
    local sdl = SDL_AREAS[area] and has_engine
    program("test-" .. area, { d .. "/**.c", d .. "/**.h", "tests/support/*.c", "tests/support/*.h" },
      { criterion = true, events_only = (area == "bus"), sdl = sdl, engine = sdl })
  end
end

for _, f in ipairs(os.matchfiles("bench/*.c")) do
  local name = string.gsub(basename(f), "%.c$", "")
  program("bench-" .. name, { f }, { events_only = (name == "bus") })
end
for _, d in ipairs(os.matchdirs("bench/*")) do
  if #os.matchfiles(d .. "/*.c") > 0 then
    program("bench-" .. basename(d), { d .. "/**.c", d .. "/**.h" }, {})
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
    local sdl = (part ~= "server") and has_engine
    -- Every part links hive-engine for the loop and timers; only sdl.o
    -- needs SDL, and the server never references it, so it stays SDL-free.
    program("hive-demo-" .. part, { d .. "/**.c", d .. "/**.h", "demo/common/*.c", "demo/common/*.h" },
      { sdl = sdl, engine = has_engine })
  end
end

for _, d in ipairs(os.matchdirs("tools/*")) do
  if #os.matchfiles(d .. "/*.c") > 0 then
    program("hive-" .. basename(d), { d .. "/**.c", d .. "/**.h" }, {})
  end
end
