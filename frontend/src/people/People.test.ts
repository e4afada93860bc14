import { describe, expect, it } from "vitest";

import { avatarColour, initials, PeopleDirectory, shownName, type Profile } from "./People";

function profile(user: string, more: Partial<Profile> = {}): Profile {
  return {
    user,
    display_name: "",
    status_emoji: "",
    status_text: "",
    time_zone: "",
    avatar_url: null,
    deactivated: false,
    bot: false,
    ...more,
  };
}

function directory() {
  const asked: string[][] = [];
  const timers: (() => void)[] = [];
  const people = new PeopleDirectory({
    fetchProfiles: (names) => {
      asked.push(names);
      return Promise.resolve(names.filter((n) => n !== "ghost").map((n) => profile(n, { display_name: n.toUpperCase() })));
    },
    setTimeout: (callback) => timers.push(callback),
  });
  const fire = async () => {
    for (const timer of timers.splice(0)) timer();
    await Promise.resolve();
    await Promise.resolve();
  };
  return { people, asked, fire };
}

describe("PeopleDirectory", () => {
  it("asks for the names that appear together in one request, each once", async () => {
    const { people, asked, fire } = directory();
    people.want(["ann", "bob"]);
    people.want(["bob", "cy", "ghost"]);
    await fire();
    expect(asked).toEqual([["ann", "bob", "cy", "ghost"]]);
    expect(people.get("ann")?.display_name).toBe("ANN");
    people.want(["ann", "ghost"]);
    await fire();
    expect(asked).toHaveLength(1);
  });

  it("follows profile frames and tells its listeners", () => {
    const { people } = directory();
    let heard = 0;
    people.subscribe(() => (heard += 1));
    const before = people.getVersion();
    people.apply({ ...profile("ann", { display_name: "Ann A", deactivated: true }), type: "profile" });
    expect(people.get("ann")).toEqual(profile("ann", { display_name: "Ann A", deactivated: true }));
    expect(heard).toBe(1);
    expect(people.getVersion()).toBe(before + 1);
  });
});

describe("names and avatars", () => {
  it("shows the display name, else the login name", () => {
    expect(shownName("ann", undefined)).toBe("ann");
    expect(shownName("ann", profile("ann", { display_name: "Ann Lee" }))).toBe("Ann Lee");
  });

  it("makes initials from the first two words, in any script", () => {
    expect(initials("Ann Lee")).toBe("AL");
    expect(initials("ann")).toBe("A");
    expect(initials("ölga-maria")).toBe("ÖM");
    expect(initials("𝒜bc")).toBe("𝒜");
  });

  it("keeps a person's colour whatever their display name", () => {
    expect(avatarColour("ann")).toBe(avatarColour("ann"));
    expect(new Set(["ann", "bob", "cy", "dee", "eve", "fay"].map(avatarColour)).size).toBeGreaterThan(2);
  });
});
